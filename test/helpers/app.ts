import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { BackupSettings } from '../../src/backup/before-first-step.js'
import { parseApiTokens } from '../../src/auth/tokens.js'
import { defaultDatabaseLimits, type DatabaseLimits } from '../../src/config.js'
import { defaultReviewSettings, type ReviewSettings } from '../../src/review/types.js'
import type { Tracing } from '../../src/tracing/start.js'
import type { TargetsFile } from '../../src/fleet/targets/targets-file.js'

export const tokens = { read: 'read-token', write: 'write-token', migrate: 'migrate-token', admin: 'admin-token' } as const

export function bearer (scope: keyof typeof tokens): { authorization: string } {
  return { authorization: `Bearer ${tokens[scope]}` }
}

interface Teardown { teardown (fn: () => unknown): void }

export interface TestAppOptions {
  /** Beside a pooled `databaseUrl`: the direct connection for migrations. */
  readonly migrationDatabaseUrl?: string
  readonly migrationsDir?: string
  /** The data endpoints; on by default with this build's own revisions. */
  readonly dataApi?: boolean
  readonly snapshotsDir?: string
  readonly lockWaitMs?: number
  readonly lockTimeoutMs?: number
  readonly lockRetries?: number
  readonly lockRetryBaseMs?: number
  /** How long revisions may share a transaction; the engine's default when unset. */
  readonly groupMs?: number
  readonly instance?: string
  /** The release the replica says it runs; the package version when unset. */
  readonly version?: string
  readonly authDisabled?: boolean
  readonly fittedTransformerMaxBytes?: number
  readonly database?: Partial<DatabaseLimits>
  readonly review?: Partial<ReviewSettings>
  /** BACKUP_BEFORE_UPGRADE and the rest: none by default. */
  readonly backup?: BackupSettings
  /** More `scope=token` pairs beside the one token per scope, e.g. a second admin. */
  readonly extraTokens?: string
  readonly tracing?: Pick<Tracing, 'fastify'>
  readonly logger?: FastifyServerOptions['logger']
  /** A parsed TARGETS_FILE; none by default. */
  readonly targets?: TargetsFile
  readonly fleetRefreshMs?: number
}

/** The real app on a real database, with one token per scope; closed at teardown. */
export async function buildTestApp (t: Teardown, databaseUrl: string, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp({
    databaseUrl,
    migrationDatabaseUrl: options.migrationDatabaseUrl,
    migrationsDir: options.migrationsDir,
    snapshotsDir: options.snapshotsDir,
    dataApi: options.dataApi ?? options.migrationsDir === undefined,
    instance: options.instance,
    version: options.version,
    tracing: options.tracing,
    logger: options.logger,
    fleetRefreshMs: options.fleetRefreshMs,
    config: {
      auth: {
        disabled: options.authDisabled ?? false,
        tokens: parseApiTokens([...Object.entries(tokens).map(([scope, token]) => `${scope}=${token}`), options.extraTokens ?? ''].join(',')),
      },
      lock: { waitMs: options.lockWaitMs ?? 30_000, lockTimeoutMs: options.lockTimeoutMs ?? 10_000, retries: options.lockRetries, retryBaseMs: options.lockRetryBaseMs, groupMs: options.groupMs },
      fittedTransformerMaxBytes: options.fittedTransformerMaxBytes ?? 64 * 1024 * 1024,
      // A heartbeat a test does not ask for stays out of its way (and out of the statements it counts).
      database: { ...defaultDatabaseLimits, replicaHeartbeatMs: 600_000, ...options.database },
      review: { ...defaultReviewSettings, ...options.review },
      backup: options.backup,
      targets: options.targets ?? null,
    },
  })
  t.teardown(() => app.close())
  await app.ready()
  return app
}
