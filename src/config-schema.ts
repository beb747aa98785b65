import { Type, type Static } from '@sinclair/typebox'
import { defaultDatabaseLimits, defaultHttpLimits } from './config.js'
import { migratorDefaults } from './migrator/index.js'
import { defaultReviewSettings } from './review/types.js'

/**
 * Every setting the service and the command line read from the environment. Compiled ahead of
 * time into src/config-validator.ts (`npm run config:validator`; a test holds the two together).
 */
export const EnvSchema = Type.Object({
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  MIGRATION_DATABASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  DATA_DIR: Type.String({ default: './.data', minLength: 1 }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' }
  ),
  LOG_FORMAT: Type.Optional(Type.Union([Type.Literal('pretty'), Type.Literal('json')])),
  API_TOKENS: Type.Optional(Type.String()),
  AUTH_DISABLED: Type.Boolean({ default: false }),
  MIGRATE_ON_START: Type.Optional(Type.Boolean()),
  MIGRATION_LOCK_WAIT_MS: Type.Integer({ default: migratorDefaults.lockWaitMs, minimum: 0 }),
  MIGRATION_LOCK_TIMEOUT_MS: Type.Integer({ default: migratorDefaults.lockTimeoutMs, minimum: 0 }),
  MIGRATION_LOCK_RETRIES: Type.Integer({ default: migratorDefaults.lockRetry.retries, minimum: 0, maximum: 100 }),
  MIGRATION_LOCK_RETRY_BASE_MS: Type.Integer({ default: migratorDefaults.lockRetry.baseMs, minimum: 1 }),
  MIGRATION_GROUP_MS: Type.Integer({ default: migratorDefaults.groupMs, minimum: 0 }),
  FITTED_TRANSFORMER_MAX_BYTES: Type.Integer({ default: 64 * 1024 * 1024, minimum: 1 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 20_000, minimum: 0 }),
  JSON_BODY_LIMIT_BYTES: Type.Integer({ default: defaultHttpLimits.jsonBodyLimitBytes, minimum: 1 }),
  RATE_LIMIT_MIGRATIONS_PER_MINUTE: Type.Integer({ default: defaultHttpLimits.migrationsPerMinute, minimum: 1 }),
  RATE_LIMIT_WRITES_PER_MINUTE: Type.Integer({ default: defaultHttpLimits.writesPerMinute, minimum: 1 }),
  DATA_STATEMENT_TIMEOUT_MS: Type.Integer({ default: defaultDatabaseLimits.statementTimeoutMs, minimum: 0 }),
  MIGRATION_STATEMENT_TIMEOUT_MS: Type.Integer({ default: defaultDatabaseLimits.migrationStatementTimeoutMs, minimum: 0 }),
  DATABASE_POOL_ACQUIRE_TIMEOUT_MS: Type.Integer({ default: defaultDatabaseLimits.poolAcquireTimeoutMs, minimum: 1 }),
  SCHEMA_STATE_REFRESH_MS: Type.Integer({ default: defaultDatabaseLimits.schemaStateRefreshMs, minimum: 100 }),
  REPLICA_HEARTBEAT_MS: Type.Integer({ default: defaultDatabaseLimits.replicaHeartbeatMs, minimum: 100 }),
  MIGRATION_APPROVAL: Type.Union([Type.Literal('off'), Type.Literal('required')], { default: 'off' }),
  ARCHIVE_RETENTION_DAYS: Type.Integer({ default: migratorDefaults.archiveRetentionDays, minimum: 1 }),
  ARCHIVE_MAX_BYTES: Type.Integer({ default: defaultReviewSettings.archiveMaxBytes, minimum: 0 }),
  BACKUP_BEFORE_UPGRADE: Type.Union([Type.Literal('off'), Type.Literal('pg_dump')], { default: 'off' }),
  BACKUP_DIR: Type.Optional(Type.String({ minLength: 1 })),
  BACKUP_KEEP: Type.Integer({ default: 5, minimum: 1 }),
  BACKUP_HOOK: Type.Optional(Type.String({ minLength: 1 })),
  PG_BIN_DIR: Type.Optional(Type.String({ minLength: 1 })),
  TARGETS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  LINT_LARGE_TABLE_ROWS: Type.Integer({ default: defaultReviewSettings.largeTableRows, minimum: 0 }),
})
export type Env = Static<typeof EnvSchema>
