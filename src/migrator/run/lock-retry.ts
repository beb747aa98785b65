import { sqlStateOf } from '../../database/pg-errors.js'

/** How a statement that failed on `lock_timeout` is tried again. */
export interface LockRetryPolicy {
  /** Tries after the first; 0 is none. */
  readonly retries: number
  /** The first wait; each later one doubles, up to `capMs`. */
  readonly baseMs: number
  readonly capMs: number
}

export const defaultLockRetryPolicy: LockRetryPolicy = { retries: 5, baseMs: 500, capMs: 10_000 }

const lockNotAvailable = '55P03'

export function isLockTimeout (error: unknown): boolean {
  return sqlStateOf(error) === lockNotAvailable
}

/**
 * The wait before retry number `retry` (1-based): exponential, capped, with "equal jitter"
 * (half fixed, half random), so replicas and the traffic they wait for do not fall into step.
 */
export function lockRetryDelayMs (policy: LockRetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1))
  return Math.round(ceiling / 2 + random() * ceiling / 2)
}
