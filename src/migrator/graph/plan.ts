import { DatabaseAheadError } from '../errors.js'
import type { DatabaseState } from '../store/state.js'
import type { RevisionGraph } from './graph.js'
import { planMigration, type PlanStep } from './planning.js'
import { isCompatiblyAhead, verifyDatabaseState, type StateAnalysis } from './state-analysis.js'
import { resolveStampTarget, resolveTarget, type ParsedTarget } from './targets.js'

/** What is asked of a state: an upgrade, a downgrade or a stamp to a target parsed once. */
export interface PlanInput {
  readonly kind: 'upgrade' | 'downgrade' | 'stamp'
  readonly target: ParsedTarget
  /** A stamp that purges: the way out of revisions nothing explains, and of a newer release's. */
  readonly purge?: boolean
}

/** Everything an operation needs to know before it runs, worked out once from one state read. */
export interface Plan {
  readonly analysis: StateAnalysis
  /** A newer release applied revisions this code lacks and this code has nothing to do: no steps, no change. */
  readonly nothingToDo: boolean
  /** The revisions the target names; [] for base, and when there is nothing to do. */
  readonly destination: string[]
  /** What `alembic_version` holds afterwards. */
  readonly to: string[]
  /** What runs, in order; none for a stamp. */
  readonly steps: PlanStep[]
}

/**
 * The one planner: the state's meaning in this code's terms, what being behind a newer
 * release allows, the resolved target and the steps. Pure; throws the engine's errors for
 * what the state forbids.
 *
 * A newer release's database (Flyway's "future" migrations): an upgrade with nothing left to
 * do in this code's terms is answered with no steps, so a rolled-back release's migration Job
 * passes; anything that would move the version would undo or hide the newer release's work,
 * and is refused. `stamp --purge` is the admin's repair tool and goes on.
 */
export function planFor (graph: RevisionGraph, state: DatabaseState, input: PlanInput): Plan {
  const purge = input.kind === 'stamp' && input.purge === true
  const analysis = verifyDatabaseState(graph, state, input.kind !== 'stamp' ? 'all' : purge ? 'nothing' : 'unknown-only')
  const ahead = analysis.ahead.length > 0 && !purge
  if (ahead && (input.kind !== 'upgrade' || !isCompatiblyAhead(analysis))) throw new DatabaseAheadError(analysis.ahead)
  if (input.kind === 'stamp') {
    const target = resolveStampTarget(graph, state.heads, input.target, purge)
    return { analysis, nothingToDo: false, destination: target.destination, to: target.heads, steps: [] }
  }
  const target = resolveTarget(graph, analysis.knownHeads, input.target, input.kind === 'upgrade' ? 'up' : 'down')
  const steps = planMigration(graph, analysis.knownHeads, target.heads)
  if (!ahead) return { analysis, nothingToDo: false, destination: target.destination, to: target.heads, steps }
  if (steps.length > 0) throw new DatabaseAheadError(analysis.ahead)
  return { analysis, nothingToDo: true, destination: [], to: state.heads, steps: [] }
}
