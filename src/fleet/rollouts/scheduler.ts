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
  const failed = targets.filter((target) => failedStatuses.includes(target.status)).length
  const settled = (status: RolloutStatus): Decision => ({ start: [], status: running > 0 ? 'running' : status })

  // Paused: nothing new starts, whatever runs finishes; resume picks up from the rows.
  if (rollout.status === 'paused') return { start: [], status: 'paused' }

  const canaries = targets.filter((target) => target.canary)
  const canaryFailed = canaries.some((target) => failedStatuses.includes(target.status))
  if (canaryFailed) return settled('failed')
  const canariesLeft = canaries.filter((target) => target.status === 'pending' || target.status === 'running')
  if (canariesLeft.length > 0) {
    const start = canariesLeft.filter((target) => target.status === 'pending').slice(0, Math.max(0, rollout.maxParallel - running))
    return { start: start.map((target) => target.name), status: 'running' }
  }

  const stopped = rollout.onError === 'stop' && failed > rollout.maxFailures
  if (stopped) return settled('failed')
  if (pending.length === 0) return settled(failed > 0 ? 'failed' : 'succeeded')
  const start = pending.slice(0, Math.max(0, rollout.maxParallel - running))
  return { start: start.map((target) => target.name), status: 'running' }
}
