import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { withEngineStepsSummarised } from './logging/summarised.js'
import { MigrationFailedError } from './migrator/index.js'
import { isDatabaseUnavailable } from './database/pg-errors.js'

/**
 * `MIGRATE_ON_START`: upgrades to head. Resolves false when the database cannot be reached
 * yet, so the service can listen (live, not ready) and retry; any other failure is thrown,
 * and start-up stops on it.
 */
export async function upgradeAtStart (app: FastifyInstance): Promise<boolean> {
  try {
    const before = await app.migrator.status()
    if (before.pending.length > 0 && before.ahead.length === 0) {
      app.log.info({ current: before.current, heads: before.heads, pending: before.pending },
        `upgrading the schema from ${revisions(before.current)} to head ${revisions(before.heads)}: ${count(before.pending.length)} pending`)
    }
    const started = performance.now()
    // A line before and one after, not one per lock, step started and step done: LOG_LEVEL=debug shows those.
    const result = await withEngineStepsSummarised(() => app.migrator.upgrade({ target: 'heads', actor: 'startup' }))
    const durationMs = Math.round(performance.now() - started)
    if (result.ahead.length > 0) {
      // An older release beside a newer one's database (rolling deploy or rollback): serve, do not retry.
      app.log.info({ current: result.from, ahead: result.ahead }, 'the database is ahead of this release; serving as it is')
    } else if (result.steps.length === 0) {
      app.log.info({ heads: result.to }, `schema at head ${revisions(result.to)}`)
    } else {
      const steps = result.steps.map(({ revision, durationMs }) => ({ revision, durationMs: Math.round(durationMs) }))
      app.log.info({ from: result.from, to: result.to, steps, durationMs },
        `schema at head ${revisions(result.to)}: ${count(steps.length)} applied in ${durationMs} ms (${steps.map((step) => `${step.revision} ${step.durationMs} ms`).join(', ')})`)
    }
    return true
  } catch (error) {
    if (!unreachable(error)) throw error
    app.log.warn({ err: error }, 'the database cannot be reached: serving as not ready and retrying the upgrade')
    return false
  }
}

/** Retries with backoff until the upgrade is done, fails for another reason (logged), or `signal` aborts. */
export async function retryUpgradeAtStart (app: FastifyInstance, signal: AbortSignal): Promise<void> {
  let delayMs = 250
  let attempt = 1
  while (!signal.aborted) {
    try {
      await sleep(delayMs, undefined, { signal })
    } catch {
      return
    }
    attempt += 1
    try {
      if (await upgradeAtStart(app)) return
    } catch (error) {
      app.log.error({ err: error, attempt }, 'the start-up upgrade failed; the service stays not ready until it is fixed')
      return
    }
    delayMs = Math.min(delayMs * 2, 5000)
  }
}

function revisions (heads: readonly string[]): string {
  return heads.length === 0 ? 'base' : heads.join(', ')
}

function count (revisionCount: number): string {
  return `${revisionCount} revision${revisionCount === 1 ? '' : 's'}`
}

function unreachable (error: unknown): boolean {
  return isDatabaseUnavailable(error) || (error instanceof MigrationFailedError && isDatabaseUnavailable(error.cause))
}
