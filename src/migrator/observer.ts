/**
 * What the engine reports as it works, for metrics and tracing. The engine calls these and
 * knows nothing of what listens; a callback must not throw.
 */
export interface MigratorObserver {
  /** A step's statements are about to run; told again when a shared transaction runs it a second time. */
  onStepStart? (event: StepStartEvent): void
  onStep? (event: StepEvent): void
  onLockAcquired? (event: LockAcquiredEvent): void
  /** A backfill committed a batch. */
  onBackfillProgress? (event: BackfillProgress): void
}

/** Where a backfill stands after a batch; `rowsTotal` is an estimate (see run/backfill.ts). */
export interface BackfillProgress {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly table: string
  /** Rows this batch updated, of the `batchSize` keys it walked over at most. */
  readonly batchRows: number
  readonly batchSize: number
  readonly rowsDone: number
  readonly rowsTotal: number
  readonly rowsPerSecond: number
  readonly etaMs: number | null
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
