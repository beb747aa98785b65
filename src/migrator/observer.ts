/**
 * What the engine reports as it works, for metrics and tracing. The engine calls these and
 * knows nothing of what listens; a callback must not throw.
 */
export interface MigratorObserver {
  onStep? (event: StepEvent): void
  onLockAcquired? (event: LockAcquiredEvent): void
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
