import type { DatabaseState } from '../migrator/index.js'

export interface SchemaStateSnapshot {
  /** Whether the last read succeeded and nothing has since said the database went away. */
  readonly reachable: boolean
  /** The last state read; null until one read has succeeded. */
  readonly state: DatabaseState | null
}

export interface SchemaStateCacheOptions {
  readonly read: () => Promise<DatabaseState>
  readonly onReadFailed?: (error: unknown) => void
  /** Reads on `changed()` leave the connection idle this many times as long as they take; 10 by default. */
  readonly idleFactor?: number
}

/**
 * The database's version as last read, so probes and `current` answer without a query each.
 * It is told when to read again (a NOTIFY, its own process's migration, a periodic timer) and
 * when the database went away; concurrent refreshes share one read.
 */
export class SchemaStateCache {
  private readonly options: SchemaStateCacheOptions
  private snapshot: SchemaStateSnapshot = { reachable: false, state: null }
  private reading: Promise<DatabaseState> | null = null
  private queued: Promise<DatabaseState> | null = null
  private readCount = 0
  private lastReadMs = 0
  private lastReadEnded = 0
  private pendingChange: NodeJS.Timeout | null = null
  private readonly headsListeners: Array<(heads: readonly string[]) => void> = []

  constructor (options: SchemaStateCacheOptions) {
    this.options = options
  }

  get current (): SchemaStateSnapshot {
    return this.snapshot
  }

  /** Told of the first read's heads, then each time a read finds others (a migration here or on another replica). */
  onNewHeads (listener: (heads: readonly string[]) => void): void {
    this.headsListeners.push(listener)
  }

  /** How many times the database was read: what a probe must not add to. */
  get reads (): number {
    return this.readCount
  }

  /**
   * Reads again. A read under way may have started before the change that asks for this one,
   * so one more read is queued behind it, shared by every caller that asks meanwhile.
   */
  refresh (): Promise<DatabaseState> {
    if (this.reading === null) return this.read()
    this.queued ??= this.reading.catch(() => undefined).then(() => {
      this.queued = null
      return this.read()
    })
    return this.queued
  }

  /**
   * Told the version changed (a NOTIFY): read at once when reads have been rare, else once the
   * connection has been idle `idleFactor` times the last read's time. A migration of N steps
   * notifies N times and a read's cost grows with the revisions applied: one read per step
   * would make N steps cost N² on every replica. The last change is always read.
   */
  changed (): void {
    if (this.pendingChange !== null) return
    const readyAt = this.lastReadEnded + this.lastReadMs * (this.options.idleFactor ?? 10)
    this.pendingChange = setTimeout(() => {
      this.pendingChange = null
      this.refresh().catch(() => undefined)
    }, Math.max(0, readyAt - performance.now()))
    this.pendingChange.unref()
  }

  /** Forgets a change not yet read: the process is closing. */
  stop (): void {
    if (this.pendingChange !== null) clearTimeout(this.pendingChange)
    this.pendingChange = null
  }

  /** A cached state if the database is reachable, else a read (which throws while it is not). */
  async state (): Promise<DatabaseState> {
    const { reachable, state } = this.snapshot
    if (reachable && state !== null) return state
    return this.reading ?? this.read()
  }

  private read (): Promise<DatabaseState> {
    if (this.reading !== null) return this.reading
    this.readCount += 1
    const started = performance.now()
    const reading = this.options.read().then((state) => {
      const before = this.snapshot.state?.heads
      this.snapshot = { reachable: true, state }
      if (before?.join() !== state.heads.join()) for (const listener of this.headsListeners) listener(state.heads)
      return state
    }, (error: unknown) => {
      this.snapshot = { reachable: false, state: this.snapshot.state }
      this.options.onReadFailed?.(error)
      throw error
    }).finally(() => {
      this.reading = null
      this.lastReadEnded = performance.now()
      this.lastReadMs = this.lastReadEnded - started
    })
    this.reading = reading
    return reading
  }

  markUnreachable (): void {
    this.snapshot = { reachable: false, state: this.snapshot.state }
  }
}
