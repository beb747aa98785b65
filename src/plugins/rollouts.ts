import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable } from '../database/pg-errors.js'
import { RolloutTargetNotFoundError } from '../fleet/rollouts/errors.js'
import { startRolloutQueue, type RolloutQueue } from '../fleet/rollouts/queue.js'
import { backgroundStarter } from '../fleet/rollouts/starter.js'
import { createRolloutService, type RolloutService } from '../fleet/rollouts/service.js'
import { ensureRolloutTables, hasUnfinishedRollouts } from '../fleet/rollouts/store.js'
import type { TargetSource } from '../fleet/rollouts/target-source.js'
import { openTargetMigrator, type TargetMigratorOptions } from '../fleet/targets/connections.js'
import { toProblem } from '../http/error-handler.js'
import { engineLogger } from '../logging/summarised.js'
import { createRolloutMetrics } from '../metrics/rollout-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    rollouts: RolloutService
  }
}

export interface RolloutsPluginOptions {
  /** The service's own database, on a connection that keeps a session (the queue LISTENs). */
  readonly databaseUrl: string
  /** The engine's settings for every target's migrator: the same lock waits and retries as the service's own. */
  readonly engine: Omit<TargetMigratorOptions, 'graph' | 'logger'>
  /** Target jobs this replica runs at once; a rollout's own `maxParallel` bounds it across replicas. */
  readonly concurrency?: number
  /** How soon a dead replica's job goes to another: its heartbeat interval, at least 10 s. */
  readonly heartbeatSeconds?: number
  /** A fleet is configured (TARGETS_FILE): the queue starts with the service, to work its rollouts. */
  readonly eager: boolean
}

/** As many jobs per replica as a rollout may run at once (`maxParallel` is at most 64). */
const defaultConcurrency = 64

/**
 * Rollouts over the fleet: the rows and the queue start with the service, and every replica
 * works the queue, so a rollout goes on on whichever replicas are up.
 */
export default fp<RolloutsPluginOptions>(async (fastify, options) => {
  const log = fastify.log.child({ component: 'rollouts' })
  let queue: RolloutQueue | null = null
  const { targets: registry, fleet } = fastify
  const graph = fastify.migrator.graph
  const source: TargetSource = {
    get environments () { return registry.environments },
    list: () => registry.list(),
    get: (name) => registry.get(name),
    async open (wanted) {
      const target = registry.get(wanted.name)
      if (target === undefined) throw new RolloutTargetNotFoundError('(any)', wanted.name)
      return openTargetMigrator(target, { ...options.engine, graph, logger: engineLogger(log.child({ target: target.name })) })
    },
    changed: (target) => { fleet.invalidate(target.name).catch(() => undefined) },
  }
  const rollouts = createRolloutService({
    knex: fastify.migrationKnex,
    queue: {
      async enqueue (trx, job) {
        if (queue === null) throw new Error('the rollout queue has not started')
        await queue.enqueue(trx, job)
      },
    },
    ready: async () => starter.ready(),
    targets: source,
    graph,
    review: fastify.review,
    problemOf: (error) => toProblem(error as FastifyError),
    isUnreachable: isDatabaseUnavailable,
    logger: log,
    metrics: createRolloutMetrics(fastify.metricsRegistry),
  })
  const starter = backgroundStarter(async () => {
    await ensureRolloutTables(fastify.migrationKnex)
    const started = await startRolloutQueue({
      connectionString: options.databaseUrl,
      concurrency: options.concurrency ?? defaultConcurrency,
      heartbeatSeconds: options.heartbeatSeconds,
      onError: (error) => log.warn({ err: error }, 'rollout queue error'),
    })
    queue = started
    await started.work(async (job) => {
      const done = fleet.whileMigrating()
      try {
        await rollouts.runTarget(job)
      } finally {
        done()
      }
    })
  }, { retryMs: 5_000, onFailed: (error) => log.warn({ err: error }, 'rollouts cannot start yet: the database does not answer; trying again') })
  fastify.decorate('rollouts', rollouts)
  // Not awaited: a database not there yet is the probes' to report, and rollouts start once it is.
  // Without a fleet, a service governing its own database alone starts no queue until a rollout
  // is asked of it, or one under way is found at start: nothing polls for work that is not there.
  fastify.addHook('onReady', async () => {
    const needed = options.eager ? Promise.resolve(true) : hasUnfinishedRollouts(fastify.migrationKnex)
    needed.then(async (start) => { if (start) await starter.ready() }).catch(() => undefined)
  })
  fastify.addHook('onClose', async () => {
    // A start under way finishes first: the queue it made is stopped too, not left polling.
    await starter.stop()
    await queue?.stop()
  })
}, { name: 'rollouts', dependencies: ['migration-connection', 'migrator', 'review', 'metrics', 'targets', 'fleet'] })
