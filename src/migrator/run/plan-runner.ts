import type { Knex } from 'knex'
import { sqlStateOf } from '../../database/pg-errors.js'
import { onSession, onTransaction, type Query } from '../archive/archive-store.js'
import { runArchivedStatements, stepArchivingContext, touchesArchives } from '../archive/step-archiving.js'
import { MigrationFailedError, ShuttingDownError } from '../errors.js'
import { headsAfterStep, type PlanStep } from '../graph/planning.js'
import { statementsOf, type Revision } from '../revision.js'
import type { StepReport } from '../store/audit.js'
import type { LockContext } from './lock.js'
import { runOnlineRevision, type ResumeEvent } from './online-revision.js'
import type { OperationContext } from './operation-context.js'
import { recordSteps } from './records.js'
import { stepFailure, withLockRetries, type RetryEvent } from './retries.js'
import { inSpan, spanNames } from './spans.js'
import { beginSql, commitSql, elapsedSince, runStatements, setTimeouts, type Timeouts } from './transaction.js'

/** How long revisions may share a transaction by default: about what one slow revision holds its locks anyway. */
export const defaultGroupMs = 50

export interface PlanRunnerOptions {
  readonly context: OperationContext
  /** The session holding the migration lock: every step runs on it. */
  readonly lock: LockContext
  /** The audit row each step is recorded in, with the step. */
  readonly operation: string
  readonly steps: readonly PlanStep[]
  /** Set for a dry run: the transaction every step runs inside and is rolled back with. */
  readonly dryRunTransaction?: Knex.Transaction
}

/** Steps committed, in order, and what `alembic_version` holds after them. */
interface Committed {
  readonly reports: StepReport[]
  readonly heads: string[]
}

/** A transaction committed its members, or was rolled back at the step `stoppedAt`. */
type BatchOutcome = Committed | { readonly stoppedAt: number, readonly error: unknown }

/**
 * One transaction's steps, from `position` up to (not including) `end`, all transactional and
 * one way. Shared: steps join while its budget lasts, each statement under the budget's
 * timeouts. Alone: one revision under the full timeouts; `tries` and `startedAt` are its
 * retries' count and the start of its first try.
 */
interface Batch {
  readonly position: number
  readonly end: number
  readonly heads: readonly string[]
  readonly shared: boolean
  readonly tries: number
  readonly startedAt: number
}

interface Member {
  readonly revision: Revision
  readonly position: number
  readonly report: StepReport
}

/** `statement_timeout` and `lock_timeout`: a shared transaction's budget ran out, not the revision. */
const overBudget = new Set(['57014', '55P03'])
const queryCanceled = '57014'

/**
 * Runs a plan on the session that holds the migration lock. Each transactional revision
 * commits in one transaction with every record of it (`alembic_version`, its checksum and
 * place in the graph, Knex's `knex_migrations` row, its audit row), so the schema change and
 * its bookkeeping commit or vanish together. Knex's own migrator is not run: it asks
 * `information_schema` for its two tables and takes its lock-table row in a transaction of its
 * own on every call, three times the round trips of the revision itself, and the advisory lock
 * already keeps replicas apart; its table is kept as it would keep it.
 *
 * Transactional revisions in a row share one transaction for up to `groupMs`: a commit and its
 * round trips per revision were most of an upgrade's time on a long graph, where Alembic runs
 * every revision in one transaction. The sharing is bounded so it never costs what a single
 * transaction would:
 * - every statement of a shared transaction runs under `statement_timeout` and `lock_timeout`
 *   of the budget, and no revision joins once the budget is spent, so a lock it takes is held
 *   at most about that much longer than its own revision would hold it;
 * - a revision that fails, runs long or waits on a lock inside it rolls it back; the revisions
 *   before it run again and commit, and it runs alone (a batch of one) with the full timeouts
 *   and lock retries. So the database ends at the last revision that completed, as it would one
 *   revision at a time, and a failure is always a revision's own.
 */
export class PlanRunner {
  private readonly context: OperationContext
  private readonly lock: LockContext
  private readonly operation: string
  private readonly steps: readonly PlanStep[]
  private readonly dryRunTransaction: Knex.Transaction | undefined

  constructor (options: PlanRunnerOptions) {
    this.context = options.context
    this.lock = options.lock
    this.operation = options.operation
    this.steps = options.steps
    this.dryRunTransaction = options.dryRunTransaction
  }

  /** Runs the plan from `from`; each step's report goes into `done` as it commits, so a failure still knows what was done. */
  async run (from: readonly string[], done: StepReport[]): Promise<string[]> {
    let heads = [...from]
    for (let position = 0; position < this.steps.length;) {
      const next = this.stepAt(position)
      if (this.context.stopping()) throw new ShuttingDownError(next.revision)
      let committed: Committed
      try {
        committed = await this.observed(position, heads)
      } catch (error) {
        this.context.logger.error({ ...this.where(position), err: error }, `${next.revision} failed`)
        // Cancelled by shutdown past its grace period: rolled back, not broken.
        if (this.context.stopping() && error instanceof MigrationFailedError && error.databaseCode === queryCanceled) throw new ShuttingDownError(next.revision)
        throw error
      }
      for (const [offset, report] of committed.reports.entries()) {
        this.context.logger.info({ ...this.where(position + offset), durationMs: report.durationMs }, `${report.revision} done`)
      }
      done.push(...committed.reports)
      heads = committed.heads
      position += committed.reports.length
    }
    return heads
  }

  /** The next steps, committed, each told to the observer (the metrics). */
  private async observed (position: number, heads: readonly string[]): Promise<Committed> {
    const { observer } = this.context
    const started = performance.now()
    try {
      const committed = await this.next(position, heads)
      for (const report of committed.reports) {
        observer?.onStep?.({ revision: report.revision, direction: report.direction, outcome: this.dryRunTransaction === undefined ? 'succeeded' : 'dry-run', durationMs: report.durationMs })
      }
      return committed
    } catch (error) {
      const step = this.stepAt(position)
      observer?.onStep?.({ revision: step.revision, direction: step.direction, outcome: 'failed', durationMs: performance.now() - started })
      throw error
    }
  }

  private async next (position: number, heads: readonly string[]): Promise<Committed> {
    const first = this.stepAt(position)
    if (this.dryRunTransaction !== undefined) return this.dry(this.dryRunTransaction, position, heads)
    if (!this.context.graph.get(first.revision).transactional) return this.online(position, heads)
    if (this.context.groupMs > 0) {
      for (let end = this.steps.length; end > position;) {
        const outcome = await this.transaction({ position, end, heads, shared: true, tries: 1, startedAt: performance.now() })
        if (!('stoppedAt' in outcome)) return outcome
        if (this.context.stopping()) throw new ShuttingDownError(first.revision)
        this.sharingStopped(position, outcome)
        end = outcome.stoppedAt
      }
    }
    return this.alone(position, heads)
  }

  /** A batch of one: the revision in a transaction of its own, with the full timeouts, taken again on `lock_timeout`. */
  private async alone (position: number, heads: readonly string[]): Promise<Committed> {
    this.announce(position)
    const startedAt = performance.now()
    return withLockRetries({ ...this.retried(position), knex: this.context.knex }, async (tries) => {
      const outcome = await this.transaction({ position, end: position + 1, heads, shared: false, tries, startedAt })
      if ('stoppedAt' in outcome) throw outcome.error
      return outcome
    })
  }

  /**
   * BEGIN with the batch's timeouts, each member's statements in one round trip, every record
   * of the members with their audit rows in one statement, COMMIT: the same round trips for
   * one revision or fifty. The plan's last commit waits for the WAL flush.
   */
  private async transaction (batch: Batch): Promise<BatchOutcome> {
    const { knex, graph, groupMs } = this.context
    const direction = this.stepAt(batch.position).direction
    const send = (sql: string) => knex.raw(sql).connection(this.lock.session)
    const members: Member[] = []
    let heads = batch.heads
    let position = batch.position
    try {
      // Inside the try: a BEGIN that fails (a connection gone) is the first step's failure.
      await send(beginSql(this.timeouts(batch.shared)))
      for (; position < batch.end; position++) {
        const step = this.stepAt(position)
        const revision = graph.get(step.revision)
        if (!revision.transactional || step.direction !== direction) break
        if (members.length > 0 && performance.now() - batch.startedAt >= groupMs) break
        if (batch.shared) this.announce(position)
        const started = batch.shared ? performance.now() : batch.startedAt
        const sql = [...statementsOf(revision, direction)]
        await inSpan(spanNames.step, stepAttributes(step, { tries: batch.tries, shared: batch.shared }), async () => this.runStep(revision, direction, sql, onSession(knex, this.lock.session), () => runStatements(knex, sql, this.lock.session)))
        heads = headsAfterStep(graph, heads, step)
        members.push({ revision, position, report: { revision: revision.revision, direction, description: revision.description, durationMs: elapsedSince(started), tries: batch.tries, resumed: false, sql } })
      }
      // Past the statements a failure is the bookkeeping's, not a revision's: the first runs alone.
      position = batch.position
      const reports = members.map((member) => member.report)
      await recordSteps(knex, {
        direction,
        revisions: members.map((member) => member.revision),
        headsAfter: heads,
        audit: { operation: this.operation, positions: members.map((member) => member.position), reports },
      }).connection(this.lock.session)
      await send(commitSql((members.at(-1) as Member).position === this.steps.length - 1))
      return { reports, heads: [...heads] }
    } catch (error) {
      await send('ROLLBACK').catch(() => undefined)
      return { stoppedAt: position, error }
    }
  }

  private async online (position: number, heads: readonly string[]): Promise<Committed> {
    const step = this.stepAt(position)
    const headsAfter = headsAfterStep(this.context.graph, heads, step)
    this.announce(position)
    const report = await inSpan(spanNames.step, stepAttributes(step, { transactional: false }), async (span) => {
      const online = await runOnlineRevision(this.context.knex, {
        ...this.retried(position),
        knex: this.context.knex,
        revision: this.context.graph.get(step.revision),
        session: this.lock.session,
        timeouts: this.timeouts(false),
        operation: this.operation,
        archiveRetentionDays: this.context.archiveRetentionDays,
        instance: this.context.instance,
        position,
        headsAfter,
        onResume: (cutOff: ResumeEvent) => this.context.logger.warn({ ...this.where(position), cutOffOperation: cutOff.operation, cutOffAt: cutOff.startedAt },
          `resuming ${step.revision}: operation ${cutOff.operation} was cut off part-way through it; running it again from its start`),
        stopping: this.context.stopping,
        onBackfillProgress: (progress) => this.context.observer?.onBackfillProgress?.(progress),
      })
      span.setAttribute('aip_schema.tries', online.tries)
      return online
    })
    return { reports: [report], heads: headsAfter }
  }

  /**
   * Inside the dry run's transaction, rolled back with it, one step at a time. A non-transactional
   * revision's statements are shown, not run: PostgreSQL refuses them inside a transaction.
   */
  private async dry (transaction: Knex.Transaction, position: number, heads: readonly string[]): Promise<Committed> {
    const step = this.stepAt(position)
    const revision = this.context.graph.get(step.revision)
    const headsAfter = headsAfterStep(this.context.graph, heads, step)
    this.announce(position)
    const started = performance.now()
    const sql = [...statementsOf(revision, step.direction)]
    if (revision.transactional) {
      await inSpan(spanNames.step, stepAttributes(step, { tries: 1, dryRun: true }), async () => {
        try {
          await setTimeouts(transaction, this.timeouts(false), true)
          await this.runStep(revision, step.direction, sql, onTransaction(transaction), () => runStatements(transaction, sql))
          await recordSteps(transaction, { direction: step.direction, revisions: [revision], headsAfter })
        } catch (error) {
          throw stepFailure(step, error, { tries: 1 })
        }
      })
    }
    return { reports: [{ revision: revision.revision, direction: step.direction, description: revision.description, durationMs: elapsedSince(started), tries: 1, resumed: false, sql }], heads: headsAfter }
  }

  /** A step's statements: one round trip, or one by one when it destroys or re-creates what an archive holds. */
  private async runStep (revision: Revision, direction: 'up' | 'down', sql: readonly string[], query: Query, together: () => Promise<void>): Promise<void> {
    if (!touchesArchives(sql)) return together()
    await runArchivedStatements(query, sql, stepArchivingContext(revision, direction, this.dryRunTransaction === undefined ? this.operation : null, this.context.archiveRetentionDays))
  }

  /** A shared transaction's budget, or a revision's own full timeouts. */
  private timeouts (shared: boolean): Timeouts {
    const { lockTimeoutMs, groupMs } = this.context
    const statementTimeoutMs = this.context.statementTimeoutMs ?? 0
    if (!shared) return { lockTimeoutMs, statementTimeoutMs }
    return {
      lockTimeoutMs: lockTimeoutMs > 0 ? Math.min(lockTimeoutMs, groupMs) : groupMs,
      statementTimeoutMs: statementTimeoutMs > 0 ? Math.min(statementTimeoutMs, groupMs) : groupMs,
    }
  }

  /** How the step at `position` is retried on `lock_timeout`, and how a retry is logged. */
  private retried (position: number) {
    const step = this.stepAt(position)
    const { lockRetry } = this.context
    return {
      step,
      sessionPid: this.lock.sessionPid,
      lockTimeoutMs: this.context.lockTimeoutMs,
      retry: lockRetry,
      onRetry: (retry: RetryEvent) => this.context.logger.warn({ ...this.where(position), try: retry.try, retryInMs: retry.delayMs, blockers: retry.blockers },
        `${step.revision} waited past lock_timeout (try ${retry.try} of ${lockRetry.retries + 1}): ${retry.message}; trying again in ${retry.delayMs} ms`),
    }
  }

  /** A step's statements are about to run: said again if a shared transaction runs it a second time. */
  private announce (position: number): void {
    const where = this.where(position)
    this.context.logger.info(where, `${where.direction === 'up' ? 'upgrading' : 'downgrading'} ${where.revision}`)
    this.context.observer?.onStepStart?.({ revision: where.revision, direction: where.direction, step: where.step, of: where.of, dryRun: where.dryRun })
  }

  private sharingStopped (position: number, outcome: { readonly stoppedAt: number, readonly error: unknown }): void {
    const stopped = this.stepAt(outcome.stoppedAt)
    const reason = overBudget.has(sqlStateOf(outcome.error) ?? '') ? 'budget' : 'failed'
    const before = outcome.stoppedAt - position
    const why = reason === 'budget' ? `needs more than the ${this.context.groupMs} ms a shared transaction may take` : 'failed in a shared transaction'
    const then = before === 0 ? 'running it' : `committing the ${before} revision${before === 1 ? '' : 's'} before it, then running it`
    this.context.logger.info({ operation: this.operation, revision: stopped.revision, reason },
      `${stopped.revision} ${why} (${(outcome.error as Error).message}): ${then} in a transaction of its own`)
  }

  /** A step's place in the logs. */
  private where (position: number) {
    const step = this.stepAt(position)
    return { operation: this.operation, revision: step.revision, direction: step.direction, step: position + 1, of: this.steps.length, dryRun: this.dryRunTransaction !== undefined }
  }

  private stepAt (position: number): PlanStep {
    return this.steps[position] as PlanStep
  }
}

/** What a step's span says of it: the revision, the direction, and how it ran. */
function stepAttributes (step: PlanStep, how: { readonly tries?: number, readonly shared?: boolean, readonly transactional?: boolean, readonly dryRun?: boolean }) {
  return {
    'aip_schema.revision': step.revision,
    'aip_schema.direction': step.direction,
    ...(how.tries === undefined ? {} : { 'aip_schema.tries': how.tries }),
    ...(how.shared === undefined ? {} : { 'aip_schema.shared_transaction': how.shared }),
    'aip_schema.transactional': how.transactional ?? true,
    ...(how.dryRun === undefined ? {} : { 'aip_schema.dry_run': how.dryRun }),
  }
}
