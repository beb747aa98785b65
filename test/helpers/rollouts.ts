import knexFactory from 'knex'
import type { FastifyError } from 'fastify'
import type { Knex } from 'knex'
import { isDatabaseUnavailable } from '../../src/database/pg-errors.js'
import { startRolloutQueue } from '../../src/fleet/rollouts/queue.js'
import { createRolloutService, type RolloutLogger, type RolloutService, type RolloutView } from '../../src/fleet/rollouts/service.js'
import { ensureRolloutTables } from '../../src/fleet/rollouts/store.js'
import type { RolloutTarget, TargetSource } from '../../src/fleet/rollouts/target-source.js'
import { toProblem } from '../../src/http/error-handler.js'
import { createMigrator, type RevisionGraph } from '../../src/migrator/index.js'
import { createReviewService } from '../../src/review/service.js'
import { defaultReviewSettings, type ReviewSettings } from '../../src/review/types.js'
import { waitFor } from './wait.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface SchemaTarget extends RolloutTarget {
  /** The database the target's schema is in; a target whose URL leads nowhere is unreachable. */
  readonly url: string
  readonly schema: string
}

export interface RolloutHarness {
  readonly service: RolloutService
  readonly source: TargetSource & { readonly changedNames: string[] }
  readonly lines: Array<Record<string, unknown>>
}

/**
 * Rollouts over schema targets, with the real queue, rows and engine, and a target source of
 * the test's own in place of the fleet registry: each target a schema, its migrator on a knex
 * whose search_path is that schema.
 */
export async function rolloutHarness (t: Teardown, options: {
  readonly knex: Knex
  readonly databaseUrl: string
  readonly graph: RevisionGraph
  readonly environments: readonly string[]
  readonly targets: readonly SchemaTarget[]
  readonly review?: Partial<ReviewSettings>
  readonly lock?: { readonly lockTimeoutMs: number, readonly retries: number, readonly baseMs: number }
}): Promise<RolloutHarness> {
  await ensureRolloutTables(options.knex)
  const lines: Array<Record<string, unknown>> = []
  const record = (level: string) => (fields: Record<string, unknown>, message: string) => { lines.push({ level, ...fields, message }) }
  const logger: RolloutLogger = { info: record('info'), warn: record('warn'), error: record('error') }
  const changedNames: string[] = []
  const source = {
    environments: options.environments,
    changedNames,
    list: () => options.targets,
    get: (name: string) => options.targets.find((target) => target.name === name),
    async open (target: RolloutTarget) {
      const { url, schema } = target as SchemaTarget
      const knex = knexFactory({ client: 'pg', connection: url, searchPath: [schema], pool: { min: 0, max: 2 }, acquireConnectionTimeout: 2000 })
      const migrator = createMigrator({
        knex,
        graph: options.graph,
        lockTimeoutMs: options.lock?.lockTimeoutMs,
        lockRetry: { retries: options.lock?.retries, baseMs: options.lock?.baseMs },
        lockWaitMs: 60_000,
      })
      return { migrator, close: async () => knex.destroy() }
    },
    changed: (target: RolloutTarget) => { changedNames.push(target.name) },
  }
  const queue = await startRolloutQueue({ connectionString: options.databaseUrl, concurrency: 8, onError: (error) => { lines.push({ level: 'error', err: error.message }) } })
  t.teardown(() => queue.stop())
  const service = createRolloutService({
    knex: options.knex,
    queue,
    ready: async () => undefined,
    targets: source,
    graph: options.graph,
    review: createReviewService(options.knex, options.graph, { ...defaultReviewSettings, ...options.review }),
    problemOf: (error) => toProblem(error as FastifyError),
    isUnreachable: isDatabaseUnavailable,
    logger,
    metrics: { finished: () => undefined, targetFailed: () => undefined },
  })
  await queue.work(async (job) => service.runTarget(job))
  return { service, source, lines }
}

/** The rollout once it has ended (or paused with nothing running), polled. */
export async function settled (service: RolloutService, id: string, timeoutMs = 30_000): Promise<RolloutView> {
  let last: RolloutView | null = null
  await waitFor(async () => {
    last = await service.get(id)
    return ['succeeded', 'failed', 'cancelled'].includes(last.status) || (last.status === 'paused' && last.counts.running === 0)
  }, timeoutMs)
  if (last === null) throw new Error('never read')
  return last
}
