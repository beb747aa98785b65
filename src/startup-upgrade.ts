import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { MigrationFailedError } from './migrator/index.js'
import { isDatabaseUnavailable } from './database/pg-errors.js'

/**
 * `MIGRATE_ON_START`: upgrades to head. Resolves false when the database cannot be reached
 * yet, so the service can listen (live, not ready) and retry; any other failure is thrown,
 * and start-up stops on it.
 */
export async function upgradeAtStart (app: FastifyInstance): Promise<boolean> {
  try {
    const result = await app.migrator.upgrade({ target: 'heads', actor: 'startup' })
    if (result.ahead.length > 0) {
      // An older release beside a newer one's database (rolling deploy or rollback): serve, do not retry.
      app.log.info({ current: result.from, ahead: result.ahead }, 'the database is ahead of this release; serving as it is')
    } else {
      app.log.info({ from: result.from, to: result.to, steps: result.steps.length }, 'schema at head')
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

function unreachable (error: unknown): boolean {
  return isDatabaseUnavailable(error) || (error instanceof MigrationFailedError && isDatabaseUnavailable(error.cause))
}
