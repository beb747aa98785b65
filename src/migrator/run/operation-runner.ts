import type { Knex } from 'knex'
import { BackfillStoppedError, LockNotAcquiredError, StampNotAllowedError, ShuttingDownError } from '../errors.js'
import { assertExpectedPlan } from '../graph/expected-plan.js'
import { planFor, type Plan } from '../graph/plan.js'
import { isForward } from '../graph/planning.js'
import type { StateAnalysis } from '../graph/state-analysis.js'
import type { StepReport } from '../store/audit.js'
import { createAuditLog } from '../store/audit.js'
import { reconcileBookkeeping } from '../store/reconcile.js'
import { readDatabaseState, sameState, type DatabaseState } from '../store/state.js'
import { withMigrationLock, type LockContext } from './lock.js'
import type { MigrationResult, OperationContext, OperationRequest } from './operation-context.js'
import { operationError, recordFailure } from './operation-failure.js'
import { PlanRunner } from './plan-runner.js'
import { writeVersionTable } from './records.js'
import { sessionKnex } from './session-knex.js'
import { inSpan, spanNames } from './spans.js'

/** The plan for `request` from `state`: the one place an operation's target is resolved and its steps worked out. */
export function planOf (context: OperationContext, request: OperationRequest, state: DatabaseState): Plan {
  return planFor(context.graph, state, { kind: request.kind, target: request.target, purge: request.stamp?.purge === true })
}

/** What the operation found before the lock: its plan stands under the lock while the state has not moved. */
export interface Preflight {
  readonly state: DatabaseState
  readonly plan: Plan
}

/** A newer release is ahead and there is nothing to do: said, and answered with no steps. */
export function nothingToDoResult (context: OperationContext, request: OperationRequest, state: DatabaseState, analysis: StateAnalysis): MigrationResult {
  context.logger.warn({ target: request.target.text, ahead: analysis.ahead },
    `the database is ahead of this code (${analysis.ahead.join(', ')}): nothing to do`)
  return { from: state.heads, to: state.heads, dryRun: request.dryRun, steps: [], ahead: analysis.ahead }
}

/** What runs under the lock: the request, its `queued` audit row, and its preflight. */
interface UnderLock {
  readonly request: OperationRequest
  readonly operation: string
  readonly preflight: Preflight
}

/** Under the lock: its session, and the engine's reads and writes of the bookkeeping on it. */
interface Held {
  readonly lock: LockContext
  readonly session: Knex
  readonly steps: StepReport[]
}

/**
 * Runs a queued operation under the cluster-wide lock. It reads `running` only once it holds
 * the lock: a running operation holds it, which is how another replica tells one whose
 * process died (closed as abandoned) from one still waiting its turn.
 */
export async function runUnderLock (context: OperationContext, run: UnderLock): Promise<MigrationResult> {
  const { request, operation } = run
  const attributes = { 'aip_schema.operation.id': operation, 'aip_schema.operation.kind': request.kind, 'aip_schema.target': request.target.text, 'aip_schema.dry_run': request.dryRun }
  return inSpan(spanNames.operation, attributes, async () => runOperation(context, run))
}

async function runOperation (context: OperationContext, run: UnderLock): Promise<MigrationResult> {
  const { request, operation } = run
  const steps: StepReport[] = []
  try {
    const result = await withMigrationLock(context.knex, {
      waitMs: context.lockWaitMs,
      instance: context.instance,
      scope: context.lockScope,
      onWait: () => { if (context.stopping()) throw new ShuttingDownError(null) },
    }, async (lock) => {
      const session = sessionKnex(context.knex, lock.session)
      const onSession: OperationContext = { ...context, audit: createAuditLog(session) }
      context.observer?.onLockAcquired?.({ waitMs: lock.waitedMs })
      await onSession.audit.update(operation, { status: 'running' })
      const abandoned = await onSession.audit.closeAbandoned(operation)
      if (abandoned > 0) context.logger.warn({ abandoned }, 'closed operations whose process died mid-way')
      context.logger.info({ operation, kind: request.kind, target: request.target.text, dryRun: request.dryRun, lockWaitMs: Math.round(lock.waitedMs) }, 'migration lock acquired')
      return await underLock(onSession, { ...run, lock, session, steps })
    })
    await context.audit.update(operation, { status: 'succeeded', to: result.to, finished: true })
    return result
  } catch (error) {
    if (error instanceof BackfillStoppedError && error.request === 'pause') {
      // Neither running nor finished: the lock is free, the checkpoint waits for a resume.
      await context.audit.update(operation, { status: 'paused' })
      context.logger.info({ operation, revision: error.revision, rowsDone: error.rowsDone }, `paused in the backfill of ${error.revision}`)
      throw error
    }
    const enriched = error instanceof LockNotAcquiredError ? await withHolderOperation(context, error) : error
    await recordFailure(context, operation, operationError(enriched, steps.at(-1)?.revision ?? null))
    throw enriched
  }
}

/** `context.audit` writes on the lock's session; `context.knex` is the pool, for what runs beside a statement. */
async function underLock (context: OperationContext, run: UnderLock & Held): Promise<MigrationResult> {
  const { request, operation } = run
  // Read again under the lock: another replica may have done the work meanwhile.
  const state = await readDatabaseState(run.session)
  const plan = sameState(state, run.preflight.state) ? run.preflight.plan : planOf(context, request, state)
  if (request.expected !== undefined) assertExpectedPlan(state, plan, request.expected)
  if (plan.nothingToDo) return nothingToDoResult(context, request, state, plan.analysis)
  if (request.stamp !== null) {
    await context.audit.update(operation, { from: state.heads })
    return await stamp(context, { request, state, plan, lock: run.lock, session: run.session })
  }
  await reconcileBookkeeping(run.session, context.graph, state)
  await context.audit.update(operation, { from: state.heads, stepsTotal: plan.steps.length })
  if (!request.dryRun) {
    const overtaken = await context.audit.closeOvertaken(operation)
    if (overtaken > 0) context.logger.info({ overtaken }, 'closed paused operations: this one resumes their backfill')
    const backup = await context.beforeFirstStep?.({ id: operation, kind: request.kind }) ?? null
    if (backup !== null) await context.audit.update(operation, { backup })
    const to = await new PlanRunner({ context, lock: run.lock, operation, steps: plan.steps }).run(state.heads, run.steps)
    return { from: state.heads, to, dryRun: false, steps: run.steps, ahead: [] }
  }
  let to: string[] = state.heads
  await context.knex.transaction(async (dryRunTransaction) => {
    to = await new PlanRunner({ context, lock: run.lock, operation, steps: plan.steps, dryRunTransaction }).run(state.heads, run.steps)
    await dryRunTransaction.rollback(dryRunRollback)
  }, { connection: run.lock.session }).catch((error: unknown) => {
    if (error !== dryRunRollback) throw error
  })
  // Recorded once the run is rolled back, as what would have run.
  await context.audit.appendSteps(operation, 0, run.steps)
  return { from: state.heads, to, dryRun: true, steps: run.steps, ahead: [] }
}

async function stamp (context: OperationContext, run: { request: OperationRequest, state: DatabaseState, plan: Plan, lock: LockContext, session: Knex }): Promise<MigrationResult> {
  const { request, state, plan } = run
  const { graph } = context
  const known = state.heads.filter((id) => graph.has(id))
  if (request.stamp?.allowBackwards !== true && !(known.length === state.heads.length && isForward(graph, known, plan.to))) {
    throw new StampNotAllowedError(request.target.text)
  }
  await run.session.transaction(async (trx) => {
    await writeVersionTable(trx, plan.to)
  })
  await reconcileBookkeeping(run.session, graph, await readDatabaseState(run.session), { repin: true })
  context.logger.info({ from: state.heads, to: plan.to }, 'stamped')
  return { from: state.heads, to: plan.to, dryRun: false, steps: [], ahead: [] }
}

async function withHolderOperation (context: OperationContext, error: LockNotAcquiredError): Promise<LockNotAcquiredError> {
  if (error.holder === null) return error
  const running = await context.audit.runningOn(error.holder.instance).catch(() => null)
  if (running === null) return error
  return new LockNotAcquiredError(error.waitedMs, { ...error.holder, operation: `${running.kind} ${running.target} (${running.id})`, since: running.startedAt })
}

const dryRunRollback = new Error('dry run: rolled back')
