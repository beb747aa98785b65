import { join } from 'node:path'
import type { BackupSettings } from './backup/before-first-step.js'
import { parseApiTokens, type ApiToken } from './auth/tokens.js'
import { ConfigError } from './config-error.js'
import type { Env } from './config-schema.js'
import { validateEnv } from './config-validator.js'
import { migratorDefaults } from './migrator/index.js'
import { readTargetsFile, type TargetsFile } from './fleet/targets/targets-file.js'
import type { ReviewSettings } from './review/types.js'

export { ConfigError }

/** Used by apps built without these settings (tests, benchmarks, the OpenAPI generator). */
export const defaultDatabaseLimits: DatabaseLimits = {
  statementTimeoutMs: 5000,
  migrationStatementTimeoutMs: migratorDefaults.statementTimeoutMs,
  poolAcquireTimeoutMs: 2000,
  schemaStateRefreshMs: 5000,
  replicaHeartbeatMs: 15_000,
}

/** Per client address; generous enough that deploy jobs, dashboards and the test suite never meet them. */
export const defaultHttpLimits: HttpLimits = {
  jsonBodyLimitBytes: 256 * 1024,
  migrationsPerMinute: 300,
  writesPerMinute: 6000,
}

export interface HttpLimits {
  /** The largest JSON body a data route accepts (a migration route takes at most 16 KiB). */
  readonly jsonBodyLimitBytes: number
  /** Upgrades, downgrades and stamps a client may ask for per minute. */
  readonly migrationsPerMinute: number
  /** Data writes (POST, PATCH, PUT, DELETE) a client may make per minute. */
  readonly writesPerMinute: number
}

/** What both the service and the command line read: the databases and how to migrate them. */
export interface MigrationSettings {
  /** Unset: the embedded PostgreSQL kept in `dataDir`. */
  readonly databaseUrl: string | null
  /**
   * A direct connection for everything that needs a session (the migration lock and the
   * revisions, the bookkeeping, LISTEN) when `databaseUrl` is a transaction pooler; null is `databaseUrl`.
   */
  readonly migrationDatabaseUrl: string | null
  readonly dataDir: string
  readonly lock: LockSettings
  readonly database: Pick<DatabaseLimits, 'migrationStatementTimeoutMs'>
  readonly review: ReviewSettings
  /** How long what a step destroyed is kept in the archive schema. */
  readonly archiveRetentionDays: number
  /** BACKUP_BEFORE_UPGRADE, BACKUP_DIR (DATA_DIR/backups by default), BACKUP_KEEP, BACKUP_HOOK, PG_BIN_DIR. */
  readonly backup: BackupSettings
  /** TARGETS_FILE, read and validated; null: the service governs its own database only. */
  readonly targets: TargetsFile | null
}

export interface Config extends MigrationSettings {
  readonly host: string
  readonly port: number
  readonly logLevel: string
  /** `pretty` by default when standard output is a terminal, else `json`. */
  readonly logFormat: LogFormat
  readonly auth: { readonly disabled: boolean, readonly tokens: readonly ApiToken[] }
  readonly migrateOnStart: boolean
  readonly fittedTransformerMaxBytes: number
  /** How long a shutdown lets the revision under way finish before rolling it back. */
  readonly shutdownGraceMs: number
  readonly http: HttpLimits
  readonly database: DatabaseLimits
}

export interface LockSettings {
  readonly waitMs: number
  readonly lockTimeoutMs: number
  /** Tries after the first for a statement that fails on `lock_timeout`; the engine's default when unset. */
  readonly retries?: number
  readonly retryBaseMs?: number
  /** How long transactional revisions in a row may share a transaction; 0: each its own; the engine's default when unset. */
  readonly groupMs?: number
}

export interface DatabaseLimits {
  /** How long a data query may run before it is cancelled; 0 is none. */
  readonly statementTimeoutMs: number
  /** `statement_timeout` inside each migration, replacing the one above; 0 is none. */
  readonly migrationStatementTimeoutMs: number
  /** How long a request waits for a pooled connection before answering 503. */
  readonly poolAcquireTimeoutMs: number
  /** How often the cached schema state is read again when no NOTIFY said it changed. */
  readonly schemaStateRefreshMs: number
  /** How often each replica records itself (GET /replicas); three missed and it counts as gone. */
  readonly replicaHeartbeatMs: number
}

export type LogFormat = 'pretty' | 'json'

/** The service's settings: the schema's, then what the service refuses to start with. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env, terminal = process.stdout.isTTY === true): Config {
  const parsed = parseEnv(env)
  const { databaseUrl, migrationDatabaseUrl } = databaseUrlsOf(parsed)
  if (migrationDatabaseUrl !== null && databaseUrl === null) {
    throw new ConfigError('invalid configuration: MIGRATION_DATABASE_URL is set without DATABASE_URL (the embedded database needs neither)')
  }
  const tokens = parseApiTokens(parsed.API_TOKENS ?? '')
  if (tokens.length === 0 && !parsed.AUTH_DISABLED && !(databaseUrl === null && isLoopback(parsed.HOST))) {
    throw new ConfigError(`refusing to start: API_TOKENS is empty ${databaseUrl === null ? `and HOST ${parsed.HOST} is not loopback` : 'and DATABASE_URL is set'}; set API_TOKENS (e.g. admin=<secret>) or AUTH_DISABLED=true`)
  }
  // The embedded database on loopback with no tokens is a developer's own machine: `npm start` just works.
  const authDisabled = parsed.AUTH_DISABLED || tokens.length === 0
  return {
    ...migrationSettingsOf(parsed, env),
    host: parsed.HOST,
    port: parsed.PORT,
    logLevel: parsed.LOG_LEVEL,
    logFormat: parsed.LOG_FORMAT ?? (terminal ? 'pretty' : 'json'),
    auth: { disabled: authDisabled, tokens },
    migrateOnStart: parsed.MIGRATE_ON_START ?? databaseUrl === null,
    fittedTransformerMaxBytes: parsed.FITTED_TRANSFORMER_MAX_BYTES,
    shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS,
    http: {
      jsonBodyLimitBytes: parsed.JSON_BODY_LIMIT_BYTES,
      migrationsPerMinute: parsed.RATE_LIMIT_MIGRATIONS_PER_MINUTE,
      writesPerMinute: parsed.RATE_LIMIT_WRITES_PER_MINUTE,
    },
    database: {
      statementTimeoutMs: parsed.DATA_STATEMENT_TIMEOUT_MS,
      migrationStatementTimeoutMs: parsed.MIGRATION_STATEMENT_TIMEOUT_MS,
      poolAcquireTimeoutMs: parsed.DATABASE_POOL_ACQUIRE_TIMEOUT_MS,
      schemaStateRefreshMs: parsed.SCHEMA_STATE_REFRESH_MS,
      replicaHeartbeatMs: parsed.REPLICA_HEARTBEAT_MS,
    },
  }
}

/**
 * What the command line migrates with, read by the service's own schema from the same
 * environment. Only the service's start rules are left out: a deploy job may hold
 * MIGRATION_DATABASE_URL alone, and the command line serves no tokens.
 */
export function loadMigrationSettings (env: NodeJS.ProcessEnv = process.env): MigrationSettings {
  return migrationSettingsOf(parseEnv(env), env)
}

/**
 * The environment through the schema: coerced, defaults filled in. The validator is the schema
 * compiled ahead of time, so neither the service nor a command line run loads a compiler.
 */
function parseEnv (env: NodeJS.ProcessEnv): Env {
  const data: unknown = { ...env }
  if (!validateEnv(data)) {
    throw new ConfigError(`invalid configuration: ${(validateEnv.errors ?? []).map((error) => `env${error.instancePath} ${error.message ?? 'is invalid'}`).join(', ')}`)
  }
  return data
}

function migrationSettingsOf (parsed: Env, env: NodeJS.ProcessEnv): MigrationSettings {
  return {
    ...databaseUrlsOf(parsed),
    dataDir: parsed.DATA_DIR,
    lock: {
      waitMs: parsed.MIGRATION_LOCK_WAIT_MS,
      lockTimeoutMs: parsed.MIGRATION_LOCK_TIMEOUT_MS,
      retries: parsed.MIGRATION_LOCK_RETRIES,
      retryBaseMs: parsed.MIGRATION_LOCK_RETRY_BASE_MS,
      groupMs: parsed.MIGRATION_GROUP_MS,
    },
    database: { migrationStatementTimeoutMs: parsed.MIGRATION_STATEMENT_TIMEOUT_MS },
    review: { approvalRequired: parsed.MIGRATION_APPROVAL === 'required', largeTableRows: parsed.LINT_LARGE_TABLE_ROWS, archiveMaxBytes: parsed.ARCHIVE_MAX_BYTES },
    archiveRetentionDays: parsed.ARCHIVE_RETENTION_DAYS,
    backup: {
      mode: parsed.BACKUP_BEFORE_UPGRADE,
      dir: parsed.BACKUP_DIR ?? join(parsed.DATA_DIR, 'backups'),
      keep: parsed.BACKUP_KEEP,
      binDir: parsed.PG_BIN_DIR,
      hook: parsed.BACKUP_HOOK,
    },
    // Its `${VAR}`s come from the environment as given, not the schema's copy of it.
    targets: parsed.TARGETS_FILE === undefined ? null : readTargetsFile(parsed.TARGETS_FILE, env),
  }
}

function databaseUrlsOf (parsed: Env): Pick<MigrationSettings, 'databaseUrl' | 'migrationDatabaseUrl'> {
  const databaseUrl = parsed.DATABASE_URL ?? null
  if (databaseUrl !== null) assertPostgresUrl(databaseUrl, 'DATABASE_URL')
  const migrationDatabaseUrl = parsed.MIGRATION_DATABASE_URL ?? null
  if (migrationDatabaseUrl !== null) assertPostgresUrl(migrationDatabaseUrl, 'MIGRATION_DATABASE_URL')
  return { databaseUrl, migrationDatabaseUrl }
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

function assertPostgresUrl (value: string, name: string): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(`invalid configuration: ${name} is not a URL (expected postgres://user:password@host:port/database)`)
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`invalid configuration: ${name} must use postgres:// or postgresql://, not ${url.protocol}//`)
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new ConfigError(`invalid configuration: ${name} names no host`)
  }
}
