import type { Knex } from 'knex'
import type { StepReport } from '../store/audit.js'
import { ShuttingDownError } from '../errors.js'
import { beginTransaction, elapsedSince, executeStep, runStatements, type StepRun } from './executor.js'
import type { RevisionGraph } from '../graph/graph.js'
import { headsAfterStep, type PlanStep } from '../graph/planning.js'
import { sqlStateOf } from '../../database/pg-errors.js'
import { recordSteps } from './records.js'
import { statementsOf, type Revision } from '../graph/revision.js'

/** How long revisions may share a transaction by default: about what one slow revision holds its locks anyway. */
export const defaultGroupMs = 50

/** Where a plan stands, and how to run its next steps. */
export interface PlanRun extends Omit<StepRun, 'step' | 'headsAfter' | 'position' | 'durable'> {
  readonly plan: readonly PlanStep[]
  /** The next step to run, and what `alembic_version` holds before it. */
  readonly position: number
  readonly heads: readonly string[]
  /** How long a transaction shared by several revisions may run; 0: each revision in its own. */
  readonly groupMs: number
  readonly stopping: () => boolean
  /** A step's statements are about to run: told again if a shared transaction runs it a second time. */
  readonly onStepStart?: (position: number) => void
  /** A shared transaction was rolled back at `revision`; the revisions before it run again without it. */
  readonly onGroupStopped?: (event: GroupStoppedEvent) => void
}

export interface GroupStoppedEvent {
  readonly revision: string
  /** `budget`: it ran or waited past the group's time; `failed`: an error of its own, which running it alone confirms or not. */
  readonly reason: 'budget' | 'failed'
  readonly message: string
  /** How many revisions before it are run again and committed. */
  readonly before: number
}

/** Steps committed, in order, and what `alembic_version` holds after them. */
export interface Committed {
  readonly reports: StepReport[]
  readonly heads: string[]
}

interface Member {
  readonly revision: Revision
  readonly position: number
  readonly report: StepReport
}

type GroupOutcome = Committed | { readonly stoppedAt: number, readonly error: unknown }

/**
 * Runs the plan's next steps and commits them. Transactional revisions in a row share one
 * transaction for up to `groupMs`: a commit and its round trips per revision were most of an
 * upgrade's time on a long graph, where Alembic runs every revision in one transaction. The
 * sharing is bounded so it never costs what a single transaction would:
 * - every statement of the group runs under `statement_timeout` and `lock_timeout` of the
 *   group's budget, and no revision joins once the budget is spent, so a lock the group takes
 *   is held at most about that much longer than its own revision would hold it;
 * - a revision that fails, runs long or waits on a lock inside the group rolls the group back;
 *   the revisions before it run again and commit, and it runs in a transaction of its own with
 *   the full timeouts and lock retries. So the database ends at the last revision that
 *   completed, as it would one revision at a time, and a failure is always a revision's own.
 */
export async function runNextBatch (knex: Knex, graph: RevisionGraph, run: PlanRun): Promise<Committed> {
  const first = run.plan[run.position] as PlanStep
  if (run.groupMs > 0 && run.dryRun === undefined && graph.get(first.revision).transactional) {
    let end = run.plan.length
    while (end > run.position) {
      const outcome = await runGroup(knex, graph, run, end)
      if (!('stoppedAt' in outcome)) return outcome
      if (run.stopping()) throw new ShuttingDownError(first.revision)
      const stopped = run.plan[outcome.stoppedAt] as PlanStep
      run.onGroupStopped?.({ revision: stopped.revision, reason: overBudget.has(sqlStateOf(outcome.error) ?? '') ? 'budget' : 'failed', message: (outcome.error as Error).message, before: outcome.stoppedAt - run.position })
      end = outcome.stoppedAt
    }
  }
  const headsAfter = headsAfterStep(graph, run.heads, first)
  run.onStepStart?.(run.position)
  const report = await executeStep(knex, graph, { ...run, step: first, headsAfter, position: run.position, durable: run.position === run.plan.length - 1 })
  return { reports: [report], heads: headsAfter }
}

/** `statement_timeout` and `lock_timeout`: the group's budget ran out, not the revision. */
const overBudget = new Set(['57014', '55P03'])

/** One transaction for the steps from `run.position` up to (not including) `end`, as far as the budget goes. */
async function runGroup (knex: Knex, graph: RevisionGraph, run: PlanRun, end: number): Promise<GroupOutcome> {
  const started = performance.now()
  const direction = (run.plan[run.position] as PlanStep).direction
  const send = (sql: string) => knex.raw(sql).connection(run.session)
  const members: Member[] = []
  let heads = run.heads
  let position = run.position
  try {
    // Inside the try: a BEGIN that fails (a connection gone) sends the first revision down the
    // path that runs it alone, whose failure names it, as any step's does.
    await send(beginTransaction({
      lockTimeoutMs: run.lockTimeoutMs > 0 ? Math.min(run.lockTimeoutMs, run.groupMs) : run.groupMs,
      statementTimeoutMs: (run.statementTimeoutMs ?? 0) > 0 ? Math.min(run.statementTimeoutMs as number, run.groupMs) : run.groupMs,
      durable: false,
    }))
    for (; position < end; position++) {
      const step = run.plan[position] as PlanStep
      const revision = graph.get(step.revision)
      if (!revision.transactional || step.direction !== direction) break
      if (members.length > 0 && performance.now() - started >= run.groupMs) break
      run.onStepStart?.(position)
      const stepStarted = performance.now()
      const sql: string[] = []
      await runStatements(knex, statementsOf(revision, direction), sql, run.session)
      heads = headsAfterStep(graph, heads, step)
      members.push({ revision, position, report: { revision: revision.revision, direction, description: revision.description, durationMs: elapsedSince(stepStarted), tries: 1, resumed: false, sql } })
    }
    // Past the statements the failure is the group's bookkeeping, not a revision's: the first runs alone.
    position = run.position
    const reports = members.map((member) => member.report)
    await recordSteps(knex, {
      direction,
      revisions: members.map((member) => member.revision),
      headsAfter: heads,
      audit: { operation: run.operation, positions: members.map((member) => member.position), reports },
    }).connection(run.session)
    // The plan's last commit waits for the WAL flush, which makes every earlier commit durable too.
    const last = (members.at(-1) as Member).position === run.plan.length - 1
    await send(last ? 'SET LOCAL synchronous_commit = on; COMMIT' : 'COMMIT')
    return { reports, heads: [...heads] }
  } catch (error) {
    await send('ROLLBACK').catch(() => undefined)
    return { stoppedAt: position, error }
  }
}
