import { DatabaseStateMismatchError } from '../errors.js'
import type { RevisionGraph } from './graph.js'
import type { DatabaseState } from '../store/state.js'

/** The database's state in this code's terms. */
export interface StateAnalysis {
  /** This code's revisions that are applied, including those that revisions it lacks stand on. */
  readonly applied: ReadonlySet<string>
  /** The heads of `applied`: where this code would take the database from. */
  readonly knownHeads: string[]
  /** Applied revisions this code lacks, placed in the graph by their records: a newer release's. */
  readonly ahead: string[]
  /** The `ahead` revisions defined as breaking: code without them must not serve. */
  readonly breaking: string[]
  /** Revisions in the database that neither this code nor any record explains. */
  readonly unknown: string[]
  /** Applied revisions whose SQL has changed since. */
  readonly mismatched: string[]
  /** This code's revisions that are not applied. */
  readonly pending: string[]
}

/**
 * Places every revision of the database in this code's graph. A revision the code lacks is
 * followed down through the parents recorded when it was applied until the walk reaches
 * revisions the code has; one with no record (another tool applied it) stays unknown.
 */
export function analyseState (graph: RevisionGraph, state: DatabaseState): StateAnalysis {
  const ahead = new Set<string>()
  const unknown = new Set<string>()
  const reached: string[] = []
  const queue = state.heads.filter((id) => !graph.has(id))
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    if (ahead.has(id) || unknown.has(id)) continue
    const parents = state.applied.get(id)?.downRevisions
    if (parents === null || parents === undefined) {
      unknown.add(id)
      continue
    }
    ahead.add(id)
    for (const parent of parents) (graph.has(parent) ? reached : queue).push(parent)
  }
  // A record no head leads to is left over from something this code cannot explain.
  for (const id of state.applied.keys()) if (!graph.has(id) && !ahead.has(id)) unknown.add(id)
  const applied = graph.closure([...state.heads.filter((id) => graph.has(id)), ...reached])
  return {
    applied,
    knownHeads: graph.headsOf(applied),
    ahead: [...ahead].sort(),
    breaking: [...ahead].filter((id) => state.applied.get(id)?.breaking === true).sort(),
    unknown: [...unknown].sort(),
    mismatched: [...state.applied].filter(([id, entry]) => graph.has(id) && graph.get(id).checksum !== entry.checksum).map(([id]) => id).sort(),
    pending: graph.all().filter((revision) => !applied.has(revision.revision)).map((revision) => revision.revision),
  }
}

/**
 * A newer release's revisions on top of every revision of this one: this code is behind, and
 * may go on serving (expand, then contract) unless one of them is breaking.
 */
export function isCompatiblyAhead (analysis: StateAnalysis): boolean {
  return analysis.ahead.length > 0 && analysis.unknown.length === 0 && analysis.pending.length === 0
}

/**
 * Nothing may run against a database at a revision nothing explains or whose SQL changed. A
 * stamp checks less: it is how an operator declares what is true. Being ahead is not checked
 * here: what it allows depends on the verb.
 */
export function verifyDatabaseState (graph: RevisionGraph, state: DatabaseState, check: 'all' | 'unknown-only' | 'nothing' = 'all'): StateAnalysis {
  const analysis = analyseState(graph, state)
  if (check === 'nothing') return analysis
  const mismatched = check === 'unknown-only' ? [] : analysis.mismatched
  if (analysis.unknown.length > 0 || mismatched.length > 0) throw new DatabaseStateMismatchError(analysis.unknown, mismatched)
  return analysis
}
