import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { sqlStateOf } from '../../database/pg-errors.js'
import { MigrationFailedError, type Blocker } from '../errors.js'
import type { PlanStep } from '../graph/planning.js'
import { watchBlockers } from './blockers.js'
import { isLockTimeout, lockRetryDelayMs, type LockRetryPolicy } from './lock-retry.js'

export interface RetryEvent {
  readonly try: number
  readonly delayMs: number
  readonly blockers: readonly Blocker[]
  readonly message: string
}

/** What a step's tries run on and under. */
export interface RetriedStep {
  readonly knex: Knex
  readonly step: PlanStep
  /** The migration session's backend, whose blockers are named when `lock_timeout` runs out. */
  readonly sessionPid: number
  readonly lockTimeoutMs: number
  readonly retry: LockRetryPolicy
  /** A try failed on `lock_timeout` and is taken again after `delayMs`. */
  readonly onRetry: (event: RetryEvent) => void
}

/**
 * Tries `attempt` until it succeeds, fails on anything but `lock_timeout`, or the retries run
 * out; then the failure is the step's, naming the sessions that blocked the last try.
 * `attempt` is told which try it is.
 */
export async function withLockRetries<T> (on: RetriedStep, attempt: (tries: number) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const watch = watchBlockers(on.knex, on.sessionPid, { firstAfterMs: on.lockTimeoutMs / 2, everyMs: Math.max(50, Math.min(on.lockTimeoutMs / 4, 1000)) })
    try {
      const value = await attempt(tries)
      watch.stop()
      return value
    } catch (error) {
      const blockers = watch.stop()
      if (!isLockTimeout(error) || tries > on.retry.retries) throw stepFailure(on.step, error, { tries, blockers })
      const delayMs = lockRetryDelayMs(on.retry, tries)
      on.onRetry({ try: tries, delayMs, blockers, message: (error as Error).message })
      await sleep(delayMs)
    }
  }
}

/** Any failure of a step as the step's own: what it ran, the database's code and message. */
export function stepFailure (step: PlanStep, error: unknown, details: { tries: number, blockers?: readonly Blocker[] }): MigrationFailedError {
  if (error instanceof MigrationFailedError) return error
  return new MigrationFailedError({ revision: step.revision, direction: step.direction, databaseCode: sqlStateOf(error), databaseMessage: (error as Error).message }, { ...details, cause: error })
}
