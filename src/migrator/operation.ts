import type { Knex } from 'knex'
import { aheadOutcome } from './ahead.js'
import type { AuditLog, OperationKind, StepReport } from './audit.js'
import { verifyDatabaseState, type StateAnalysis } from './compatibility.js'
import { LockNotAcquiredError, MigrationFailedError, MigratorError, ShuttingDownError, StampNotAllowedError } from './errors.js'
import { executeNext, type Committed, type GroupStoppedEvent, type PlanRun } from './group.js'
import { writeVersionTable } from './records.js'
import { assertExpectedPlan, type ExpectedPlan } from './expected-plan.js'
import type { RevisionGraph } from './graph.js'
import { withMigrationLock, type LockContext } from './lock.js'
import type { LockRetryPolicy } from './lock-retry.js'
import type { MigratorObserver } from './observer.js'
import { isForward, planMigration, type PlanStep } from './planner.js'
import { reconcileBookkeeping } from './reconcile.js'
import { readDatabaseState, type DatabaseState } from './state.js'
import { resolveStampTarget, resolveTarget, type ParsedTarget } from './targets.js'

export interface MigratorLogger {
  info (object: object, message: string): void
  warn (object: object, message: string): void
  error (object: object, message: string): void
}

export interface MigrationResult {
  readonly from: string[]
  readonly to: string[]
  readonly dryRun: boolean
  readonly steps: StepReport[]
  /** Applied revisions this code lacks: a newer release's, left as they are. */
  readonly ahead: string[]
}

/** One upgrade, downgrade or stamp, its target parsed once. */
export interface OperationRequest {
  readonly kind: OperationKind
  readonly target: ParsedTarget
  readonly dryRun: boolean
  readonly actor: string
  /** For a stamp: whether it purges, and whether the caller may move the version backwards. */
  readonly stamp: { readonly purge: boolean, readonly allowBackwards: boolean } | null
  /** An approved plan's starting state and steps, checked on the state read under the lock. */
  readonly expected?: ExpectedPlan
}

/** What an operation runs with: the engine's parts, and whether the process is stopping. */
export interface OperationContext {
  readonly knex: Knex
  readonly graph: RevisionGraph
  readonly audit: AuditLog
  readonly instance: string
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  readonly statementTimeoutMs: number | undefined
  readonly lockRetry: LockRetryPolicy
  /** How long transactional revisions in a row may share a transaction; 0: one each. */
  readonly groupMs: number
  readonly logger: MigratorLogger
  readonly observer: MigratorObserver | undefined
  readonly stopping: () => boolean
}

/**
 * Checks what no state of the database could make valid and what this state forbids, without
 * the lock; `nothing-to-do` when a newer release is ahead and there is nothing to do.
 */
export function checkState (context: OperationContext, request: OperationRequest, state: DatabaseState): { analysis: StateAnalysis, nothingToDo: boolean } {
  const analysis = verifyDatabaseState(context.graph, state, stateCheck(request))
  const nothingToDo = aheadOutcome(context.graph, analysis, { kind: request.kind, target: request.target, purge: request.stamp?.purge === true }) === 'nothing-to-do'
  if (!nothingToDo && request.stamp === null) resolveTarget(context.graph, analysis.knownHeads, request.target, request.kind === 'upgrade' ? 'up' : 'down')
  return { analysis, nothingToDo }
}

/** A newer release is ahead and there is nothing to do: said, and answered with no steps. */
export function nothingToDoResult (context: OperationContext, request: OperationRequest, state: DatabaseState, analysis: StateAnalysis): MigrationResult {
  context.logger.warn({ target: request.target.text, ahead: analysis.ahead },
    `the database is ahead of this code (${analysis.ahead.join(', ')}): nothing to do`)
  return { from: state.heads, to: state.heads, dryRun: request.dryRun, steps: [], ahead: analysis.ahead }
}

/** Runs the operation under the cluster-wide lock, recording it in the audit row `operation`. */
export async function runUnderLock (context: OperationContext, request: OperationRequest, operation: string, queued: boolean): Promise<MigrationResult> {
  const log = { operation, kind: request.kind, target: request.target.text, dryRun: request.dryRun }
  const steps: StepReport[] = []
  try {
    const result = await withMigrationLock(context.knex, {
      waitMs: context.lockWaitMs,
      instance: context.instance,
      onWait: () => { if (context.stopping()) throw new ShuttingDownError(null) },
    }, async (lock) => {
      context.observer?.onLockAcquired?.({ waitMs: lock.waitedMs })
      if (queued) await context.audit.update(operation, { status: 'running' })
      const abandoned = await context.audit.closeAbandoned(operation)
      if (abandoned > 0) context.logger.warn({ abandoned }, 'closed operations whose process died mid-way')
      context.logger.info({ ...log, lockWaitMs: Math.round(lock.waitedMs) }, 'migration lock acquired')
      // Read again under the lock: another replica may have done the work meanwhile.
      const state = await readDatabaseState(context.knex)
      const checked = checkState(context, request, state)
      const { analysis } = checked
      if (request.expected !== undefined) assertExpectedPlan(context.graph, state, request.target, request.kind === 'upgrade' ? 'up' : 'down', request.expected)
      if (checked.nothingToDo) return nothingToDoResult(context, request, state, analysis)
      if (request.stamp !== null) {
        await context.audit.update(operation, { from: state.heads })
        return await stampUnderLock(context, request, state, lock)
      }
      await reconcileBookkeeping(context.knex, context.graph, state)
      return await migrateUnderLock(context, request, state, analysis, steps, operation, lock)
    })
    await context.audit.update(operation, { status: 'succeeded', to: result.to, finished: true })
    return result
  } catch (error) {
    const enriched = error instanceof LockNotAcquiredError ? await withHolderOperation(context, error) : error
    await context.audit.update(operation, { status: 'failed', error: describe(enriched), finished: true })
      .catch((auditError: unknown) => context.logger.error({ err: auditError, operation }, 'could not record the failed operation'))
    throw enriched
  }
}

async function migrateUnderLock (context: OperationContext, request: OperationRequest, state: DatabaseState, analysis: StateAnalysis, steps: StepReport[], operation: string, lock: LockContext): Promise<MigrationResult> {
  const { graph } = context
  const target = resolveTarget(graph, analysis.knownHeads, request.target, request.kind === 'upgrade' ? 'up' : 'down')
  const plan = planMigration(graph, analysis.knownHeads, target.heads)
  await context.audit.update(operation, { from: state.heads, stepsTotal: plan.length })
  const whereOf = (position: number): StepWhere => {
    const step = plan[position] as PlanStep
    return { operation, revision: step.revision, direction: step.direction, step: position + 1, of: plan.length, dryRun: request.dryRun }
  }
  const execute = async (dryRunTransaction?: Knex.Transaction): Promise<string[]> => {
    let heads = state.heads
    for (let position = 0; position < plan.length;) {
      const next = plan[position] as PlanStep
      if (context.stopping()) throw new ShuttingDownError(next.revision)
      let committed: Committed
      try {
        committed = await executeObserved(context, { plan, position, heads }, operation, lock, whereOf, dryRunTransaction)
      } catch (error) {
        context.logger.error({ ...whereOf(position), err: error }, `${next.revision} failed`)
        // Cancelled by shutdown past its grace period: rolled back, not broken.
        if (context.stopping() && error instanceof MigrationFailedError && error.databaseCode === queryCanceled) throw new ShuttingDownError(next.revision)
        throw error
      }
      for (const [offset, report] of committed.reports.entries()) {
        context.logger.info({ ...whereOf(position + offset), durationMs: report.durationMs }, `${report.revision} done`)
      }
      steps.push(...committed.reports)
      heads = committed.heads
      position += committed.reports.length
    }
    return heads
  }
  if (!request.dryRun) {
    const to = await execute()
    return { from: state.heads, to, dryRun: false, steps, ahead: [] }
  }
  let to: string[] = state.heads
  await context.knex.transaction(async (trx) => {
    to = await execute(trx)
    await trx.rollback(dryRunRollback)
  }, { connection: lock.session }).catch((error: unknown) => {
    if (error !== dryRunRollback) throw error
  })
  // Recorded once the run is rolled back, as what would have run.
  await context.audit.appendSteps(operation, 0, steps)
  return { from: state.heads, to, dryRun: true, steps, ahead: [] }
}

function groupStoppedMessage (stopped: GroupStoppedEvent, groupMs: number): string {
  const why = stopped.reason === 'budget' ? `needs more than the ${groupMs} ms a shared transaction may take` : 'failed in a shared transaction'
  const then = stopped.before === 0 ? 'running it' : `committing the ${stopped.before} revision${stopped.before === 1 ? '' : 's'} before it, then running it`
  return `${stopped.revision} ${why} (${stopped.message}): ${then} in a transaction of its own`
}

/** A step's place in the logs. */
interface StepWhere {
  readonly operation: string
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly step: number
  readonly of: number
  readonly dryRun: boolean
}

/** The plan's next steps, committed, each one told to the observer (the metrics). */
async function executeObserved (context: OperationContext, at: Pick<PlanRun, 'plan' | 'position' | 'heads'>, operation: string, lock: LockContext, whereOf: (position: number) => StepWhere, dryRun: Knex.Transaction | undefined): Promise<Committed> {
  const next = at.plan[at.position] as PlanStep
  const where = whereOf(at.position)
  const started = performance.now()
  try {
    const committed = await executeNext(context.knex, context.graph, {
      ...at,
      lockTimeoutMs: context.lockTimeoutMs,
      statementTimeoutMs: context.statementTimeoutMs,
      retry: context.lockRetry,
      groupMs: context.groupMs,
      session: lock.session,
      sessionPid: lock.sessionPid,
      operation,
      instance: context.instance,
      dryRun,
      stopping: context.stopping,
      onStepStart: (position) => {
        const step = whereOf(position)
        context.logger.info(step, `${step.direction === 'up' ? 'upgrading' : 'downgrading'} ${step.revision}`)
        context.observer?.onStepStart?.({ revision: step.revision, direction: step.direction, step: step.step, of: step.of, dryRun: step.dryRun })
      },
      onGroupStopped: (stopped) => context.logger.info({ operation, revision: stopped.revision, reason: stopped.reason }, groupStoppedMessage(stopped, context.groupMs)),
      onRetry: (retry) => context.logger.warn({ ...where, try: retry.try, retryInMs: retry.delayMs, blockers: retry.blockers },
        `${next.revision} waited past lock_timeout (try ${retry.try} of ${context.lockRetry.retries + 1}): ${retry.message}; trying again in ${retry.delayMs} ms`),
      onResume: (cutOff) => context.logger.warn({ ...where, cutOffOperation: cutOff.operation, cutOffAt: cutOff.startedAt },
        `resuming ${next.revision}: operation ${cutOff.operation} was cut off part-way through it; running it again from its start`),
    })
    for (const report of committed.reports) {
      context.observer?.onStep?.({ revision: report.revision, direction: report.direction, outcome: dryRun === undefined ? 'succeeded' : 'dry-run', durationMs: report.durationMs })
    }
    return committed
  } catch (error) {
    context.observer?.onStep?.({ revision: next.revision, direction: next.direction, outcome: 'failed', durationMs: performance.now() - started })
    throw error
  }
}

async function stampUnderLock (context: OperationContext, request: OperationRequest, state: DatabaseState, lock: LockContext): Promise<MigrationResult> {
  const { graph } = context
  const stamp = request.stamp ?? { purge: false, allowBackwards: false }
  const target = resolveStampTarget(graph, state.heads, request.target, stamp.purge)
  const known = state.heads.filter((id) => graph.has(id))
  if (!stamp.allowBackwards && !(known.length === state.heads.length && isForward(graph, known, target.heads))) {
    throw new StampNotAllowedError(request.target.text)
  }
  await context.knex.transaction(async (trx) => {
    await writeVersionTable(trx, target.heads)
  }, { connection: lock.session })
  await reconcileBookkeeping(context.knex, graph, await readDatabaseState(context.knex), { repin: true })
  context.logger.info({ from: state.heads, to: target.heads }, 'stamped')
  return { from: state.heads, to: target.heads, dryRun: false, steps: [], ahead: [] }
}

async function withHolderOperation (context: OperationContext, error: LockNotAcquiredError): Promise<LockNotAcquiredError> {
  if (error.holder === null) return error
  const running = await context.audit.runningOn(error.holder.instance).catch(() => null)
  if (running === null) return error
  return new LockNotAcquiredError(error.waitedMs, { ...error.holder, operation: `${running.kind} ${running.target} (${running.id})`, since: running.startedAt })
}

const dryRunRollback = new Error('dry run: rolled back')
const queryCanceled = '57014'

/** `stamp` is the way out of a changed checksum; `stamp --purge` also out of an unknown revision. */
function stateCheck (request: OperationRequest): 'all' | 'unknown-only' | 'nothing' {
  if (request.stamp === null) return 'all'
  return request.stamp.purge ? 'nothing' : 'unknown-only'
}

function describe (error: unknown) {
  if (error instanceof MigrationFailedError) {
    return { kind: error.kind, message: error.message, revision: error.revision, code: error.databaseCode, tries: error.tries, blockers: [...error.blockers] }
  }
  if (error instanceof MigratorError) {
    const fields = error as unknown as { revision?: string }
    return { kind: error.kind, message: error.message, revision: fields.revision }
  }
  return { kind: 'internal', message: (error as Error).message }
}
