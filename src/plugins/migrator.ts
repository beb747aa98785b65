import fp from 'fastify-plugin'
import { engineLogger } from '../logging/summarised.js'
import { type BeforeFirstStep, createMigrator, loadRevisions, type MigratorObserver, RevisionGraph, type SchemaMigrator } from '../migrator/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    migrator: SchemaMigrator
  }
}

export interface MigratorPluginOptions {
  readonly migrationsDir?: string
  readonly instance?: string
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  readonly lockRetry?: { readonly retries?: number, readonly baseMs?: number }
  readonly groupMs?: number
  readonly observer?: MigratorObserver
  readonly statementTimeoutMs?: number
  readonly archiveRetentionDays?: number
  readonly beforeFirstStep?: BeforeFirstStep | undefined
}

/** The engine, built once: a broken revision graph stops start-up here, naming the files. */
export default fp<MigratorPluginOptions>(async (fastify, options) => {
  const graph = RevisionGraph.build(await loadRevisions(options.migrationsDir))
  const migrator = createMigrator({
    knex: fastify.migrationKnex,
    graph,
    instance: options.instance,
    lockWaitMs: options.lockWaitMs,
    lockTimeoutMs: options.lockTimeoutMs,
    lockRetry: options.lockRetry,
    groupMs: options.groupMs,
    statementTimeoutMs: options.statementTimeoutMs,
    archiveRetentionDays: options.archiveRetentionDays,
    beforeFirstStep: options.beforeFirstStep,
    logger: engineLogger(fastify.log),
    observer: options.observer,
    assertDirectConnection: () => fastify.migrationConnection.assertDirect(),
  })
  fastify.decorate('migrator', migrator)
  // Said at start-up, not at the next migration; not waited for, as a database not there yet is the probes' to report.
  let closing: Promise<void> = Promise.resolve()
  fastify.addHook('onReady', async () => {
    closing = migrator.closeInterrupted().catch((error: unknown) => fastify.log.warn({ err: error }, 'could not check for interrupted operations'))
  })
  // Registered after the migration connection, so this runs before its pool is destroyed.
  fastify.addHook('onClose', async () => { await Promise.all([closing, migrator.idle()]) })
}, { name: 'migrator', dependencies: ['migration-connection'] })
