import { hostname } from 'node:os'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { defaultDatabaseLimits, defaultHttpLimits, type Config } from './config.js'
import { installValidators } from './http/validation.js'
import { sharedSerializers } from './http/serialization.js'
import { answerFrameworkError } from './http/framework-errors.js'
import { answerClientError } from './http/client-errors.js'
import { sharedSchemas } from './schemas/common.js'
import { migrationSchemas } from './schemas/migrations.js'
import { archiveSchemas } from './schemas/archives.js'
import { ReadinessSchema } from './schemas/health.js'
import { dataSchemas } from './schemas/data.js'
import { schemaSchemas } from './schemas/schema.js'
import { planSchemas } from './schemas/plans.js'
import { replicaSchemas } from './schemas/replicas.js'
import { WhoAmISchema } from './schemas/auth.js'
import knexPlugin from './plugins/knex.js'
import migrationConnectionPlugin from './plugins/migration-connection.js'
import migratorPlugin from './plugins/migrator.js'
import metricsPlugin from './plugins/metrics.js'
import shutdownPlugin from './plugins/shutdown.js'
import hardening from './plugins/hardening.js'
import schemaStatePlugin from './plugins/schema-state.js'
import authPlugin from './plugins/auth.js'
import problemDetails from './plugins/problem-details.js'
import openapi from './plugins/openapi.js'
import docsRoutes from './routes/docs/index.js'
import healthRoutes from './routes/health/index.js'
import migrationReadRoutes from './routes/migrations/read.js'
import migrationWriteRoutes from './routes/migrations/write.js'
import migrationControlRoutes from './routes/migrations/control.js'
import migrationPlanRoutes from './routes/migrations/plans.js'
import migrationArchiveRoutes from './routes/migrations/archives.js'
import archivesPlugin from './plugins/archives.js'
import { backupBeforeFirstStep } from './backup/before-first-step.js'
import reviewPlugin from './plugins/review.js'
import { defaultReviewSettings } from './review/types.js'
import schemaRoutes from './routes/schema/index.js'
import schemaGate from './plugins/schema-gate.js'
import dataPlugin from './plugins/data.js'
import dataRoutes from './routes/data/index.js'
import tracingPlugin from './plugins/tracing.js'
import replicasPlugin from './plugins/replicas.js'
import replicaRoutes from './routes/replicas/index.js'
import authRoutes from './routes/auth/index.js'
import statusPage from './routes/status/index.js'
import { packageVersion } from './replicas/release.js'
import targetsPlugin from './plugins/targets.js'
import fleetPlugin, { defaultFleetRefreshMs } from './plugins/fleet.js'
import fleetRoutes from './routes/fleet/index.js'
import { fleetSchemas } from './schemas/fleet.js'
import rolloutsPlugin from './plugins/rollouts.js'
import rolloutRoutes from './routes/rollouts/index.js'
import { rolloutSchemas } from './schemas/rollouts.js'
import type { Tracing } from './tracing/start.js'

export interface AppOptions {
  /** Data queries and session-free reads: may be a transaction pooler. */
  readonly databaseUrl: string
  /** Everything that needs a session (migrations, bookkeeping, LISTEN); defaults to `databaseUrl`. */
  readonly migrationDatabaseUrl?: string
  readonly config: Pick<Config, 'auth' | 'lock' | 'fittedTransformerMaxBytes'> & Partial<Pick<Config, 'database' | 'http' | 'review' | 'archiveRetentionDays' | 'backup' | 'targets'>>
  readonly logger?: FastifyServerOptions['logger']
  /** Another set of revisions, for tests. */
  readonly migrationsDir?: string
  /** The schema snapshots of that set, for `GET /schema/drift`; default the committed ones. */
  readonly snapshotsDir?: string
  readonly instance?: string
  /** The release this replica says it runs in `GET /replicas`; the package version by default. */
  readonly version?: string
  /** The data endpoints need the service's own revisions; off for another revision set. */
  readonly dataApi?: boolean
  /** Started by the server when the `OTEL_*` variables ask for it; absent, nothing is traced. */
  readonly tracing?: Pick<Tracing, 'fastify'>
  /** How often the fleet view reads every target again. */
  readonly fleetRefreshMs?: number
}

/** The application; it never listens (src/service.ts does), so tests build it and inject. */
export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    genReqId: () => crypto.randomUUID(),
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    schemaController: { compilersFactory: { buildSerializer: sharedSerializers() } },
  }).withTypeProvider<TypeBoxTypeProvider>()
  installValidators(app)
  if (options.tracing !== undefined) await app.register(tracingPlugin, options.tracing)

  for (const schema of [...sharedSchemas, ...migrationSchemas, ReadinessSchema, ...dataSchemas, ...schemaSchemas, ...planSchemas, ...replicaSchemas, WhoAmISchema, ...archiveSchemas, ...fleetSchemas, ...rolloutSchemas]) app.addSchema(schema)

  await app.register(problemDetails)
  // Before any route, these three: each sees every route through its `onRoute` hook.
  await app.register(openapi)
  await app.register(metricsPlugin)
  await app.register(hardening, options.config.http ?? defaultHttpLimits)
  const limits = options.config.database ?? defaultDatabaseLimits
  const instance = options.instance ?? `${hostname()}:${process.pid}`
  const migrationDatabaseUrl = options.migrationDatabaseUrl ?? options.databaseUrl
  await app.register(knexPlugin, {
    databaseUrl: options.databaseUrl,
    pool: { acquireTimeoutMs: limits.poolAcquireTimeoutMs, statementTimeoutMs: limits.statementTimeoutMs },
  })
  await app.register(migrationConnectionPlugin, { databaseUrl: migrationDatabaseUrl, acquireTimeoutMs: limits.poolAcquireTimeoutMs })
  // One set of engine settings: the service's own database and every fleet target migrate alike.
  const engineSettings = {
    instance,
    lockWaitMs: options.config.lock.waitMs,
    lockTimeoutMs: options.config.lock.lockTimeoutMs,
    lockRetry: { retries: options.config.lock.retries, baseMs: options.config.lock.retryBaseMs },
    groupMs: options.config.lock.groupMs,
    statementTimeoutMs: limits.migrationStatementTimeoutMs,
    archiveRetentionDays: options.config.archiveRetentionDays,
  }
  await app.register(migratorPlugin, {
    ...engineSettings,
    observer: app.migrationObserver,
    migrationsDir: options.migrationsDir,
    beforeFirstStep: options.config.backup === undefined ? undefined : backupBeforeFirstStep(options.config.backup, migrationDatabaseUrl),
  })
  await app.register(archivesPlugin)
  await app.register(schemaStatePlugin, {
    databaseUrl: migrationDatabaseUrl,
    instance,
    refreshMs: limits.schemaStateRefreshMs,
    acquireTimeoutMs: limits.poolAcquireTimeoutMs,
    statementTimeoutMs: limits.statementTimeoutMs,
  })
  await app.register(targetsPlugin, {
    file: options.config.targets ?? null,
    self: { url: options.databaseUrl, migrationUrl: options.migrationDatabaseUrl ?? null },
  })
  await app.register(fleetPlugin, { refreshMs: options.fleetRefreshMs ?? defaultFleetRefreshMs, background: (options.config.targets ?? null) !== null, snapshotsDir: options.snapshotsDir })
  await app.register(reviewPlugin, options.config.review ?? defaultReviewSettings)
  await app.register(rolloutsPlugin, { databaseUrl: migrationDatabaseUrl, engine: engineSettings, eager: (options.config.targets ?? null) !== null })
  await app.register(shutdownPlugin)
  await app.register(replicasPlugin, { instance, version: options.version ?? packageVersion(), heartbeatMs: limits.replicaHeartbeatMs })
  await app.register(authPlugin, options.config.auth)

  await app.register(docsRoutes)
  await app.register(healthRoutes)
  await app.register(migrationReadRoutes)
  await app.register(migrationWriteRoutes)
  await app.register(migrationArchiveRoutes)
  await app.register(migrationControlRoutes)
  await app.register(migrationPlanRoutes, { adminTokens: options.config.auth.tokens.filter((token) => token.scope === 'admin').length })
  await app.register(schemaRoutes, { snapshotsDir: options.snapshotsDir })
  await app.register(replicaRoutes)
  await app.register(authRoutes, { disabled: options.config.auth.disabled })
  await app.register(statusPage)
  await app.register(fleetRoutes)
  await app.register(rolloutRoutes)
  if (options.dataApi !== false) {
    await app.register(schemaGate)
    await app.register(dataPlugin)
    await app.register(dataRoutes, { fittedTransformerMaxBytes: options.config.fittedTransformerMaxBytes })
  }
  return app
}
