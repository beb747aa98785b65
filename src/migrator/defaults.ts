import { defaultGroupMs } from './run/plan-runner.js'
import { defaultLockRetryPolicy } from './run/lock-retry.js'

/** What the engine runs with where nothing says otherwise: the service's settings default to these too. */
export const migratorDefaults = {
  /** How long an operation waits for the cluster-wide migration lock. */
  lockWaitMs: 30_000,
  /** `lock_timeout` for each revision statement. */
  lockTimeoutMs: 10_000,
  lockRetry: defaultLockRetryPolicy,
  groupMs: defaultGroupMs,
  /** `statement_timeout` inside each migration: none. */
  statementTimeoutMs: 0,
  /** How long what a step destroyed is kept in the archive schema. */
  archiveRetentionDays: 30,
} as const
