import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { createAuditLog, type Operation, type OperationKind, type StepReport } from './audit.js'
import { ensureBookkeeping } from './bookkeeping.js'
import { cancelMigrationStatements } from './cancel.js'
import { LockNotAcquiredError, MigrationFailedError, MigratorError, OperationNotFoundError, ShuttingDownError, StampNotAllowedError } from './errors.js'
import { executeStep, writeVersionTable } from './executor.js'
import { assertExpectedPlan, type ExpectedPlan } from './expected-plan.js'
import type { RevisionGraph } from './graph.js'
import { withMigrationLock } from './lock.js'
import type { MigratorObserver } from './observer.js'
import { headsAfterStep, isForward, planMigration, type PlanStep } from './planner.js'
import { preparedOnPool, recordNoOpUpgrade, type PreparedQuery } from './no-op.js'
import { reconcileBookkeeping } from './reconcile.js'
import type { Revision } from './revision.js'
import { readDatabaseState, verifyDatabaseState, type DatabaseState } from './state.js'
import { parseTarget, resolveStampTarget, resolveTarget } from './targets.js'

export interface MigratorLogger {
  info (object: object, message: string): void
  warn (object: object, message: string): void
  error (object: object, message: string): void
}

export interface MigratorOptions {
  readonly knex: Knex
  readonly graph: RevisionGraph
  /** Names this process in the lock holder and the audit log. */
  readonly instance: string
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  /** `statement_timeout` inside each migration; 0 or unset is none. */
  readonly statementTimeoutMs?: number
  readonly logger: MigratorLogger
  readonly observer?: MigratorObserver
}

export interface SchemaStatus {
  readonly current: string[]
  readonly heads: string[]
  readonly upToDate: boolean
  readonly pending: string[]
}

export interface MigrationResult {
  readonly from: string[]
  readonly to: string[]
  readonly dryRun: boolean
  readonly steps: StepReport[]
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

export interface HistoryEntry {
  readonly revision: string
  readonly downRevisions: string[]
  readonly description: string
  readonly createDate: string
  readonly isHead: boolean
  readonly applied: boolean
  readonly appliedAt: string | null
}

type Direction = 'up' | 'down'

/** The verbs: one implementation behind the HTTP routes and the command line. */
export class SchemaMigrator {
  readonly graph: RevisionGraph
  private readonly knex: Knex
  private readonly prepared: PreparedQuery
  private readonly options: MigratorOptions
  private readonly audit
  private bookkeepingReady = false
  private readonly checksums: Record<string, string>
  /** Every operation under way, in a request or in the background: shutdown waits on them. */
  private readonly running = new Set<Promise<unknown>>()
  private stopping = false
  private lastStatus: { readonly state: DatabaseState, readonly status: SchemaStatus } | null = null

  constructor (options: MigratorOptions) {
    this.options = options
    this.knex = options.knex
    this.prepared = preparedOnPool(options.knex)
    this.graph = options.graph
    this.audit = createAuditLog(options.knex)
    this.checksums = Object.fromEntries(options.graph.all().map((revision) => [revision.revision, revision.checksum]))
  }

  async state (): Promise<DatabaseState> {
    return readDatabaseState(this.knex)
  }

  async status (): Promise<SchemaStatus> {
    return this.statusOf(await this.state())
  }

  /** Memoized on the state object: the cached state answers every probe until it is read again. */
  statusOf (state: DatabaseState): SchemaStatus {
    if (this.lastStatus?.state !== state) this.lastStatus = { state, status: this.computeStatus(state) }
    return this.lastStatus.status
  }

  private computeStatus (state: DatabaseState): SchemaStatus {
    const applied = this.graph.closure(state.heads.filter((id) => this.graph.has(id)))
    const pending = this.graph.all().filter((revision) => !applied.has(revision.revision)).map((revision) => revision.revision)
    const heads = [...this.graph.heads]
    const upToDate = pending.length === 0 && sameSet(state.heads, heads)
    return { current: state.heads, heads, upToDate, pending }
  }

  revision (ref: string): Revision {
    return this.graph.get(this.graph.resolveRevision(ref))
  }

  async history (): Promise<HistoryEntry[]> {
    const state = await this.state()
    const applied = this.graph.closure(state.heads.filter((id) => this.graph.has(id)))
    const heads = new Set(this.graph.heads)
    return [...this.graph.all()].reverse().map((revision) => ({
      revision: revision.revision,
      downRevisions: [...revision.downRevisions],
      description: revision.description,
      createDate: revision.createDate,
      isHead: heads.has(revision.revision),
      applied: applied.has(revision.revision),
      appliedAt: state.applied.get(revision.revision)?.appliedAt ?? null,
    }))
  }

  async upgrade (request: MigrateRequest): Promise<MigrationResult> {
    const fast = await this.noOpUpgrade(request)
    if (fast !== null) return fast
    return this.run('upgrade', request, null)
  }

  async downgrade (request: MigrateRequest): Promise<MigrationResult> {
    return this.run('downgrade', request, null)
  }

  async stamp (request: StampRequest): Promise<MigrationResult> {
    return this.run('stamp', { target: request.target, actor: request.actor }, request)
  }

  /** Validates now, answers with the queued operation, and runs it after the caller has moved on. */
  async submit (kind: 'upgrade' | 'downgrade', request: MigrateRequest): Promise<Operation> {
    await this.preflight(kind, request.target, null)
    await this.ensureBookkeeping()
    const operation = await this.audit.open({ kind, target: request.target, dryRun: request.dryRun === true, actor: request.actor, instance: this.options.instance, status: 'queued' })
    this.run(kind, request, null, operation.id).catch((error: unknown) => {
      this.options.logger.error({ err: error, operation: operation.id }, 'background migration failed')
    })
    return operation
  }

  async operations (limit: number): Promise<Operation[]> {
    return this.audit.list(limit)
  }

  async operation (id: string): Promise<Operation> {
    const operation = await this.audit.get(id)
    if (operation === null) throw new OperationNotFoundError(id)
    return operation
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

  /**
   * The common deploy with nothing new: one statement that checks the database is at the
   * graph's heads and records the succeeded operation, no lock. Anything else takes the full path.
   */
  private async noOpUpgrade (request: MigrateRequest): Promise<MigrationResult | null> {
    if (request.dryRun === true || request.expected !== undefined || !this.bookkeepingReady || !this.isNoOpAtHeads(request.target)) return null
    const { recorded, heads } = await recordNoOpUpgrade(this.prepared, {
      target: request.target,
      actor: request.actor,
      instance: this.options.instance,
      heads: this.graph.heads,
      checksums: this.checksums,
    })
    return recorded ? { from: heads, to: heads, dryRun: false, steps: [] } : null
  }

  /** Whether upgrading to `target` from the graph's heads has nothing to do; a bad target is the full path's to report. */
  private isNoOpAtHeads (target: string): boolean {
    try {
      return planMigration(this.graph, this.graph.heads, resolveTarget(this.graph, this.graph.heads, target, 'up').heads).length === 0
    } catch {
      return false
    }
  }

  /** Fails fast, without the lock, on what no state of the database could make valid. */
  private async preflight (kind: OperationKind, target: string, stamp: StampRequest | null): Promise<void> {
    if (this.stopping) throw new ShuttingDownError(null)
    parseTarget(target)
    const state = await this.state()
    verifyDatabaseState(this.graph, state, stamp === null ? 'all' : stampCheck(stamp))
    if (stamp === null) resolveTarget(this.graph, state.heads, target, kind === 'upgrade' ? 'up' : 'down')
  }

  private async ensureBookkeeping (): Promise<void> {
    if (this.bookkeepingReady) return
    await ensureBookkeeping(this.knex)
    this.bookkeepingReady = true
  }

  private run (kind: OperationKind, request: MigrateRequest, stamp: StampRequest | null, queuedId?: string): Promise<MigrationResult> {
    const work = this.runOperation(kind, request, stamp, queuedId)
    const settled: Promise<unknown> = work.catch(() => undefined).finally(() => this.running.delete(settled))
    this.running.add(settled)
    return work
  }

  private async runOperation (kind: OperationKind, request: MigrateRequest, stamp: StampRequest | null, queuedId?: string): Promise<MigrationResult> {
    const dryRun = request.dryRun === true
    if (queuedId === undefined) {
      await this.preflight(kind, request.target, stamp)
      await this.ensureBookkeeping()
    }
    const operation = queuedId ?? (await this.audit.open({ kind, target: request.target, dryRun, actor: request.actor, instance: this.options.instance, status: 'running' })).id
    const log = { operation, kind, target: request.target, dryRun }
    const steps: StepReport[] = []
    try {
      const result = await withMigrationLock(this.knex, {
        waitMs: this.options.lockWaitMs,
        instance: this.options.instance,
        onWait: () => { if (this.stopping) throw new ShuttingDownError(null) },
      }, async ({ waitedMs, session }) => {
        this.options.observer?.onLockAcquired?.({ waitMs: waitedMs })
        if (queuedId !== undefined) await this.audit.update(operation, { status: 'running' })
        const abandoned = await this.audit.closeAbandoned(operation)
        if (abandoned > 0) this.options.logger.warn({ abandoned }, 'closed operations whose process died mid-way')
        this.options.logger.info({ ...log, lockWaitMs: Math.round(waitedMs) }, 'migration lock acquired')
        // Read again under the lock: another replica may have done the work meanwhile.
        const state = await this.state()
        verifyDatabaseState(this.graph, state, stamp === null ? 'all' : stampCheck(stamp))
        if (request.expected !== undefined) assertExpectedPlan(this.graph, state, request.target, kind === 'upgrade' ? 'up' : 'down', request.expected)
        await this.audit.update(operation, { from: state.heads })
        if (stamp !== null) return this.stampUnderLock(state, stamp, session)
        await reconcileBookkeeping(this.knex, this.graph, state)
        return this.migrateUnderLock(state, kind === 'upgrade' ? 'up' : 'down', request, steps, operation, session)
      })
      await this.audit.update(operation, { status: 'succeeded', to: result.to, steps: result.steps, finished: true })
      return result
    } catch (error) {
      const enriched = error instanceof LockNotAcquiredError ? await this.withHolderOperation(error) : error
      await this.audit.update(operation, { status: 'failed', steps, error: describe(enriched), finished: true })
        .catch((auditError: unknown) => this.options.logger.error({ err: auditError, operation }, 'could not record the failed operation'))
      throw enriched
    }
  }

  private async migrateUnderLock (state: DatabaseState, direction: Direction, request: MigrateRequest, steps: StepReport[], operation: string, session: unknown): Promise<MigrationResult> {
    const target = resolveTarget(this.graph, state.heads, request.target, direction)
    const plan = planMigration(this.graph, state.heads, target.heads)
    const dryRun = request.dryRun === true
    const execute = async (dryRunTransaction?: Knex.Transaction): Promise<string[]> => {
      let heads = state.heads
      for (const [index, step] of plan.entries()) {
        const headsAfter = headsAfterStep(this.graph, heads, step)
        const context = { operation, revision: step.revision, direction: step.direction, step: index + 1, of: plan.length, dryRun }
        if (this.stopping) throw new ShuttingDownError(step.revision)
        this.options.logger.info(context, `${step.direction === 'up' ? 'upgrading' : 'downgrading'} ${step.revision}`)
        try {
          steps.push(await this.executeObserved(step, headsAfter, session, dryRunTransaction))
        } catch (error) {
          this.options.logger.error({ ...context, err: error }, `${step.revision} failed`)
          // Cancelled by shutdown past its grace period: rolled back, not broken.
          if (this.stopping && error instanceof MigrationFailedError && error.databaseCode === queryCanceled) throw new ShuttingDownError(step.revision)
          throw error
        }
        this.options.logger.info({ ...context, durationMs: steps.at(-1)?.durationMs }, `${step.revision} done`)
        heads = headsAfter
        if (dryRunTransaction === undefined) await this.audit.update(operation, { steps })
      }
      return heads
    }
    if (!dryRun) {
      const to = await execute()
      return { from: state.heads, to, dryRun, steps }
    }
    let to: string[] = state.heads
    await this.knex.transaction(async (trx) => {
      to = await execute(trx)
      await trx.rollback(dryRunRollback)
    }, { connection: session }).catch((error: unknown) => {
      if (error !== dryRunRollback) throw error
    })
    return { from: state.heads, to, dryRun, steps }
  }

  private async executeObserved (step: PlanStep, headsAfter: readonly string[], session: unknown, dryRun: Knex.Transaction | undefined): Promise<StepReport> {
    const started = performance.now()
    const event = { revision: step.revision, direction: step.direction }
    try {
      const report = await executeStep(this.knex, this.graph, {
        step,
        headsAfter,
        lockTimeoutMs: this.options.lockTimeoutMs,
        statementTimeoutMs: this.options.statementTimeoutMs,
        session,
        dryRun,
      })
      this.options.observer?.onStep?.({ ...event, outcome: dryRun === undefined ? 'succeeded' : 'dry-run', durationMs: report.durationMs })
      return report
    } catch (error) {
      this.options.observer?.onStep?.({ ...event, outcome: 'failed', durationMs: performance.now() - started })
      throw error
    }
  }

  private async stampUnderLock (state: DatabaseState, request: StampRequest, session: unknown): Promise<MigrationResult> {
    const target = resolveStampTarget(this.graph, state.heads, request.target, request.purge === true)
    const known = state.heads.filter((id) => this.graph.has(id))
    if (!request.allowBackwards && !(known.length === state.heads.length && isForward(this.graph, known, target.heads))) {
      throw new StampNotAllowedError(request.target)
    }
    await this.knex.transaction(async (trx) => {
      await writeVersionTable(trx, target.heads)
    }, { connection: session })
    await reconcileBookkeeping(this.knex, this.graph, await this.state(), { repin: true })
    this.options.logger.info({ from: state.heads, to: target.heads }, 'stamped')
    return { from: state.heads, to: target.heads, dryRun: false, steps: [] }
  }

  private async withHolderOperation (error: LockNotAcquiredError): Promise<LockNotAcquiredError> {
    if (error.holder === null) return error
    const running = await this.audit.runningOn(error.holder.instance).catch(() => null)
    if (running === null) return error
    return new LockNotAcquiredError(error.waitedMs, { ...error.holder, operation: `${running.kind} ${running.target} (${running.id})`, since: running.startedAt })
  }
}

const dryRunRollback = new Error('dry run: rolled back')
const queryCanceled = '57014'

/** `stamp` is the way out of a changed checksum; `stamp --purge` also out of an unknown revision. */
function stampCheck (request: StampRequest): 'unknown-only' | 'nothing' {
  return request.purge === true ? 'nothing' : 'unknown-only'
}

function describe (error: unknown) {
  if (error instanceof MigratorError) {
    const fields = error as unknown as { revision?: string, databaseCode?: string | null }
    return { kind: error.kind, message: error.message, revision: fields.revision, code: fields.databaseCode }
  }
  return { kind: 'internal', message: (error as Error).message }
}

function sameSet (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item))
}
