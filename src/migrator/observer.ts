/**
 * What the engine reports as it works, for metrics and tracing. The engine calls these and
 * knows nothing of what listens; a callback must not throw.
 */
export interface MigratorObserver {
  /** A step's statements are about to run; told again when a shared transaction runs it a second time. */
  onStepStart? (event: StepStartEvent): void
  onStep? (event: StepEvent): void
  onLockAcquired? (event: LockAcquiredEvent): void
}

export interface StepStartEvent {
  readonly revision: string
  readonly direction: 'up' | 'down'
  /** The step's place in the operation's plan, from 1. */
  readonly step: number
  readonly of: number
  readonly dryRun: boolean
}

export interface StepEvent {
  readonly revision: string
  readonly direction: 'up' | 'down'
  /** `dry-run`: the step ran and was rolled back with its dry run. */
  readonly outcome: 'succeeded' | 'failed' | 'dry-run'
  readonly durationMs: number
}

export interface LockAcquiredEvent {
  readonly waitMs: number
}
