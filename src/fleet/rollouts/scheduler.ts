/**
 * What a rollout does next, from its rows alone: no clock, no database, no queue. The service
 * asks it after every change (a target done, a pause, a retry) and carries out its answer
 * under the rollout's row lock, so two replicas never start the same target twice.
 */

export type TargetStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'unreachable' | 'cancelled'
export type RolloutStatus = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled'
export type OnError = 'stop' | 'continue'

export interface SchedulerTarget {
  readonly name: string
  readonly status: TargetStatus
  readonly canary: boolean
  /** Why it failed; a `plan-stale` target (its pending steps are not the approved plan's) fails alone. */
  readonly problem?: { readonly type?: unknown } | null
}

export interface SchedulerRollout {
  readonly status: RolloutStatus
  readonly maxParallel: number
  readonly maxFailures: number
  readonly onError: OnError
}

export interface Decision {
  /** Targets to start now, in the rollout's order. */
  readonly start: readonly string[]
  /** The rollout's status after this step. */
  readonly status: RolloutStatus
}

export const finishedStatuses: readonly RolloutStatus[] = ['succeeded', 'failed', 'cancelled']

const failedStatuses: readonly TargetStatus[] = ['failed', 'unreachable']

/**
 * A failure that says something of the rollout: it stops it (`stop`), counts toward
 * `maxFailures`, and a canary's ends it. A target whose steps are not the plan's says only that
 * this target moved since the plan was made: it fails, the rollout ends failed, the others go on.
 */
function counts (target: SchedulerTarget): boolean {
  return failedStatuses.includes(target.status) && target.problem?.type !== 'plan-stale'
}

/** `canary` as asked (`2`, `"10%"`) to a number of targets out of `total`; a percentage rounds up. */
export function canaryCount (canary: number | string, total: number): number {
  if (typeof canary === 'number') return Math.min(Math.max(0, Math.floor(canary)), total)
  const percent = Number(canary.slice(0, -1))
  return Math.min(Math.ceil(total * percent / 100), total)
}

export const canaryPattern = '^(100|[1-9]?[0-9])%$'

export function nextStep (rollout: SchedulerRollout, targets: readonly SchedulerTarget[]): Decision {
  if (finishedStatuses.includes(rollout.status)) return { start: [], status: rollout.status }
  const running = targets.filter((target) => target.status === 'running').length
  const pending = targets.filter((target) => target.status === 'pending')
  const failed = targets.filter(counts).length
  const anyFailed = targets.some((target) => failedStatuses.includes(target.status))
  const settled = (status: RolloutStatus): Decision => ({ start: [], status: running > 0 ? 'running' : status })

  // Paused: nothing new starts, whatever runs finishes; resume picks up from the rows.
  if (rollout.status === 'paused') return { start: [], status: 'paused' }

  const canaries = targets.filter((target) => target.canary)
  const canaryFailed = canaries.some(counts)
  if (canaryFailed) return settled('failed')
  const canariesLeft = canaries.filter((target) => target.status === 'pending' || target.status === 'running')
  if (canariesLeft.length > 0) {
    const start = canariesLeft.filter((target) => target.status === 'pending').slice(0, Math.max(0, rollout.maxParallel - running))
    return { start: start.map((target) => target.name), status: 'running' }
  }

  const stopped = rollout.onError === 'stop' && failed > rollout.maxFailures
  if (stopped) return settled('failed')
  if (pending.length === 0) return settled(anyFailed ? 'failed' : 'succeeded')
  const start = pending.slice(0, Math.max(0, rollout.maxParallel - running))
  return { start: start.map((target) => target.name), status: 'running' }
}
