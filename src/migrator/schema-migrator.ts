import { archiveTotals, deleteArchive, listArchives, purgeExpiredArchives, restoreArchive, type Archive } from './archive/archive-store.js'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { createAuditLog, type AuditLog, type Operation, type OperationKind, type ReadOptions } from './store/audit.js'
import { ensureBookkeeping } from './store/bookkeeping.js'
import { cancelMigrationStatements } from './run/cancel.js'
import { cancelOperation, pauseOperation, requeueOperation } from './run/backfill-control.js'
import { migratorDefaults } from './defaults.js'
import { OperationNotFoundError, ShuttingDownError } from './errors.js'
import type { ExpectedPlan } from './graph/expected-plan.js'
import type { RevisionGraph } from './graph/graph.js'
import { defaultGroupMs } from './run/plan-runner.js'
import { defaultLockRetryPolicy, type LockRetryPolicy } from './run/lock-retry.js'
import type { MigratorObserver } from './observer.js'
import { preparedOnPool, recordNoOpUpgrade, type PreparedQuery } from './store/no-op-upgrade.js'
import type { BeforeFirstStep, MigrationResult, MigratorLogger, OperationContext, OperationRequest } from './run/operation-context.js'
import { nothingToDoResult, planOf, runUnderLock, type Preflight } from './run/operation-runner.js'
import type { Revision } from './revision.js'
import { readDatabaseState, type DatabaseState } from './store/state.js'
import { historyOf, viewOf, type HistoryEntry, type HistoryPage, type SchemaStatus, type StateView } from './graph/status.js'
import { namesTheHeads, parsedTarget } from './graph/targets.js'

export type { HistoryEntry, HistoryPage, MigrationResult, MigratorLogger, SchemaStatus, StateView }

export interface MigratorOptions {
  readonly knex: Knex
  readonly graph: RevisionGraph
  /** Names this process in the lock holder and the audit log. */
  readonly instance: string
  /**
   * For a schema target (its knex's search path is that schema): the migration lock's own key,
   * so two schemas of one database migrate at once. Unset: the database's one lock.
   */
  readonly lockScope?: string | null
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  /** How a statement that fails on `lock_timeout` is retried; 5 retries from 500 ms by default. */
  readonly lockRetry?: Partial<LockRetryPolicy>
  /** How long transactional revisions in a row may share a transaction; 0: each its own. 50 ms by default. */
  readonly groupMs?: number
  /** `statement_timeout` inside each migration; 0 or unset is none. */
  readonly statementTimeoutMs?: number
  /** How long what a step destroys is kept in the archive schema; 30 days by default. */
  readonly archiveRetentionDays?: number
  /** A backup before the first step of an upgrade or downgrade (BACKUP_BEFORE_UPGRADE, BACKUP_HOOK). */
  readonly beforeFirstStep?: BeforeFirstStep
  readonly logger: MigratorLogger
  readonly observer?: MigratorObserver
  /** Throws when the connection is known to go through a transaction pooler; before any work, the lock probes again itself. */
  readonly assertDirectConnection?: () => Promise<void>
}

export interface MigrateRequest {
  readonly target: string
  readonly dryRun?: boolean
  readonly actor: string
  /** An approved plan's starting state and steps: anything else is refused under the lock. */
  readonly expected?: ExpectedPlan
}

export interface StampRequest {
  readonly target: string
  readonly purge?: boolean
  readonly actor: string
  /** Stamping backwards hides applied revisions: callers decide who may. */
  readonly allowBackwards: boolean
}

/** What a caller of `createMigrator` must give; everything else has the engine's default. */
export type CreateMigratorOptions = Pick<MigratorOptions, 'knex' | 'graph'> & {
  readonly [K in Exclude<keyof MigratorOptions, 'knex' | 'graph' | 'lockRetry'>]?: MigratorOptions[K] | undefined
} & {
  readonly lockRetry?: { readonly retries?: number | undefined, readonly baseMs?: number | undefined }
}

const silent: MigratorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined }

/**
 * The engine with the defaults filled in, in one place: the service, the command line and the
 * scratch databases of autogenerate and the snapshots each give only what they set.
 */
export function createMigrator (options: CreateMigratorOptions): SchemaMigrator {
  const { lockRetry = {}, ...given } = options
  return new SchemaMigrator({
    ...given,
    instance: given.instance ?? `${hostname()}:${process.pid}`,
    lockWaitMs: given.lockWaitMs ?? migratorDefaults.lockWaitMs,
    lockTimeoutMs: given.lockTimeoutMs ?? migratorDefaults.lockTimeoutMs,
    lockRetry: { retries: lockRetry.retries ?? migratorDefaults.lockRetry.retries, baseMs: lockRetry.baseMs ?? migratorDefaults.lockRetry.baseMs },
    groupMs: given.groupMs ?? migratorDefaults.groupMs,
    statementTimeoutMs: given.statementTimeoutMs ?? migratorDefaults.statementTimeoutMs,
    archiveRetentionDays: given.archiveRetentionDays ?? migratorDefaults.archiveRetentionDays,
    logger: given.logger ?? silent,
  })
}

/** The verbs: one implementation behind the HTTP routes and the command line. */
export class SchemaMigrator {
  private readonly options: MigratorOptions
  readonly graph: RevisionGraph
  private readonly knex: Knex
  private readonly prepared: PreparedQuery
  private readonly context: OperationContext
  private readonly audit: AuditLog
  private bookkeepingReady = false
  private readonly checksums: Record<string, string>
  /** Every operation under way, in a request or in the background: shutdown waits on them. */
  private readonly running = new Set<Promise<unknown>>()
  private stopping = false
  private lastView: { readonly state: DatabaseState, readonly view: StateView } | null = null

  constructor (options: MigratorOptions) {
    this.options = options
    this.knex = options.knex
    this.prepared = preparedOnPool(options.knex)
    this.graph = options.graph
    this.audit = createAuditLog(options.knex)
    this.checksums = Object.fromEntries(options.graph.all().map((revision) => [revision.revision, revision.checksum]))
    this.context = {
      knex: options.knex,
      graph: options.graph,
      audit: this.audit,
      instance: options.instance,
      lockScope: options.lockScope ?? null,
      lockWaitMs: options.lockWaitMs,
      lockTimeoutMs: options.lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      lockRetry: { ...defaultLockRetryPolicy, ...options.lockRetry },
      groupMs: options.groupMs ?? defaultGroupMs,
      archiveRetentionDays: options.archiveRetentionDays ?? migratorDefaults.archiveRetentionDays,
      beforeFirstStep: options.beforeFirstStep,
      logger: options.logger,
      observer: options.observer,
      stopping: () => this.stopping,
    }
  }

  /** What steps archived, newest first. */
  async archives (): Promise<Archive[]> {
    return listArchives(this.knex)
  }

  /** Puts an archive back, into its live table or a new one; how many rows. */
  async restoreArchive (id: number, into?: string): Promise<number> {
    await this.ensureBookkeeping()
    return restoreArchive(this.knex, id, into)
  }

  async deleteArchive (id: number): Promise<void> {
    return deleteArchive(this.knex, id)
  }

  /** Drops the archives past their retention; how many. */
  async purgeExpiredArchives (): Promise<number> {
    return purgeExpiredArchives(this.knex)
  }

  async archiveTotals (): Promise<{ count: number, bytes: number }> {
    return archiveTotals(this.knex)
  }

  async state (): Promise<DatabaseState> {
    return readDatabaseState(this.knex)
  }

  async status (): Promise<SchemaStatus> {
    return this.statusOf(await this.state())
  }

  statusOf (state: DatabaseState): SchemaStatus {
    return this.viewOf(state).status
  }

  /** Memoized on the state object: the cached state answers every probe until it is read again. */
  viewOf (state: DatabaseState): StateView {
    if (this.lastView?.state !== state) this.lastView = { state, view: viewOf(this.graph, state) }
    return this.lastView.view
  }

  revision (ref: string): Revision {
    return this.graph.get(this.graph.resolveRevision(ref))
  }

  async history (page: { limit?: number, cursor?: string } = {}): Promise<HistoryPage> {
    const state = await this.state()
    return historyOf(this.graph, this.viewOf(state), state, page)
  }

  async upgrade (request: MigrateRequest): Promise<MigrationResult> {
    const operation = this.operationRequest('upgrade', request, null)
    await this.options.assertDirectConnection?.()
    const fast = await this.noOpUpgrade(operation)
    if (fast !== null) return fast
    return this.run(operation)
  }

  async downgrade (request: MigrateRequest): Promise<MigrationResult> {
    return this.run(this.operationRequest('downgrade', request, null))
  }

  async stamp (request: StampRequest): Promise<MigrationResult> {
    return this.run(this.operationRequest('stamp', request, { purge: request.purge === true, allowBackwards: request.allowBackwards }))
  }

  /** Validates now, answers with the queued operation, and runs it after the caller has moved on. */
  async submit (kind: 'upgrade' | 'downgrade', request: MigrateRequest): Promise<Operation> {
    const operation = this.operationRequest(kind, request, null)
    const preflight = await this.preflight(operation)
    if (preflight.plan.nothingToDo) return this.recordNothingToDo(operation, preflight.state)
    const queued = await this.audit.open({ kind, target: request.target, dryRun: operation.dryRun, actor: request.actor, instance: this.options.instance, status: 'queued' })
    this.track(runUnderLock(this.context, { request: operation, operation: queued.id, preflight })).catch((error: unknown) => {
      this.options.logger.error({ err: error, operation: queued.id }, 'background migration failed')
    })
    return queued
  }

  async operations (limit: number, options: ReadOptions = {}): Promise<Operation[]> {
    return this.audit.list(limit, options)
  }

  async operation (id: string, options: ReadOptions = {}): Promise<Operation> {
    const operation = await this.audit.get(id, options)
    if (operation === null) throw new OperationNotFoundError(id)
    return operation
  }

  /** Pauses the operation's backfill between batches: its lock is freed, its checkpoint kept. */
  async pause (id: string): Promise<Operation> {
    await this.ensureBookkeeping()
    return pauseOperation(this.audit, id)
  }

  /** Ends the operation's backfill as failed; the rows done stay, and a later upgrade resumes from the checkpoint. */
  async cancel (id: string): Promise<Operation> {
    await this.ensureBookkeeping()
    return cancelOperation(this.audit, id)
  }

  /** Runs a paused operation again, here, in the background: it takes the lock and carries on from the checkpoint. */
  async resume (id: string): Promise<Operation> {
    await this.ensureBookkeeping()
    const queued = await requeueOperation(this.audit, id, this.options.instance)
    const request = this.operationRequest(queued.kind === 'downgrade' ? 'downgrade' : 'upgrade', { target: queued.target, actor: queued.actor }, null)
    const preflight = await this.preflight(request)
    this.track(runUnderLock(this.context, { request, operation: id, preflight })).catch((error: unknown) => {
      this.options.logger.error({ err: error, operation: id }, 'resumed migration stopped')
    })
    return queued
  }

  /**
   * At start-up: an operation a dead process left part-way through a non-transactional
   * revision is closed as interrupted now, not only when the next migration starts.
   */
  async closeInterrupted (): Promise<void> {
    const closed = await this.audit.closeInterrupted()
    if (closed > 0) this.options.logger.warn({ closed }, 'closed operations cut off part-way through a non-transactional revision; the next upgrade resumes it')
  }

  /** Resolves once every operation under way has ended. */
  async idle (): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }

  /**
   * Starts nothing new and stops each plan after the revision under way. Past `graceMs` that
   * revision's statement is cancelled, so its transaction rolls back and the lock is released.
   */
  async shutdown (graceMs: number): Promise<void> {
    this.stopping = true
    const idle = this.idle()
    const timer = new AbortController()
    const late = await Promise.race([
      idle.then(() => false),
      sleep(graceMs, true, { signal: timer.signal }).catch(() => false),
    ])
    timer.abort()
    if (!late) return
    this.options.logger.warn({ graceMs }, 'shutdown grace period over: cancelling the running migration')
    // A cancel that reaches the session between two statements does nothing: repeat until the work ends.
    while (this.running.size > 0) {
      await cancelMigrationStatements(this.knex, this.options.instance)
      await Promise.race([idle, sleep(250)])
    }
  }

  /** Parses the target once: a syntax error fails here, before anything is read. */
  private operationRequest (kind: OperationKind, request: MigrateRequest, stamp: OperationRequest['stamp']): OperationRequest {
    return { kind, target: parsedTarget(request.target), dryRun: request.dryRun === true, actor: request.actor, stamp, expected: request.expected }
  }

  /**
   * The common deploy with nothing new: one statement that checks the database is at the
   * graph's heads and records the succeeded operation, no lock. Anything else takes the full path.
   */
  private async noOpUpgrade (request: OperationRequest): Promise<MigrationResult | null> {
    if (request.dryRun || request.expected !== undefined || !this.bookkeepingReady || !namesTheHeads(this.graph, request.target)) return null
    const { recorded, heads } = await recordNoOpUpgrade(this.prepared, {
      target: request.target.text,
      actor: request.actor,
      instance: this.options.instance,
      heads: this.graph.heads,
      checksums: this.checksums,
    })
    return recorded ? { from: heads, to: heads, dryRun: false, steps: [], ahead: [] } : null
  }

  /**
   * Fails fast, without the lock, on what no state of the database could make valid, and
   * plans: under the lock the plan stands unless the state has moved meanwhile.
   */
  private async preflight (request: OperationRequest): Promise<Preflight> {
    if (this.stopping) throw new ShuttingDownError(null)
    await this.options.assertDirectConnection?.()
    const state = await this.state()
    const plan = planOf(this.context, request, state)
    await this.ensureBookkeeping()
    return { state, plan }
  }

  /** A newer release is ahead and there is nothing to do: recorded finished in one statement. */
  private async recordNothingToDo (request: OperationRequest, state: DatabaseState): Promise<Operation> {
    return this.audit.recordFinished({ kind: request.kind, target: request.target.text, dryRun: request.dryRun, actor: request.actor, instance: this.options.instance, heads: state.heads })
  }

  private async ensureBookkeeping (): Promise<void> {
    if (this.bookkeepingReady) return
    await ensureBookkeeping(this.knex)
    this.bookkeepingReady = true
  }

  private async run (request: OperationRequest): Promise<MigrationResult> {
    const preflight = await this.preflight(request)
    if (preflight.plan.nothingToDo) {
      await this.recordNothingToDo(request, preflight.state)
      return nothingToDoResult(this.context, request, preflight.state, preflight.plan.analysis)
    }
    const operation = await this.audit.open({ kind: request.kind, target: request.target.text, dryRun: request.dryRun, actor: request.actor, instance: this.options.instance, status: 'queued' })
    return this.track(runUnderLock(this.context, { request, operation: operation.id, preflight }))
  }

  private track<T> (work: Promise<T>): Promise<T> {
    const settled: Promise<unknown> = work.catch(() => undefined).finally(() => this.running.delete(settled))
    this.running.add(settled)
    return work
  }
}
