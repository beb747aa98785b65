import { isCompatiblyAhead, type StateAnalysis } from './state-analysis.js'
import { DatabaseAheadError } from '../errors.js'
import type { RevisionGraph } from './graph.js'
import { planMigration } from './planning.js'
import { resolveTarget, type ParsedTarget } from './targets.js'

export type AheadOutcome = 'proceed' | 'nothing-to-do'

/**
 * What a verb may do when a newer release has applied revisions this code lacks (Flyway's
 * "future" migrations). An upgrade with nothing left to do in this code's terms answers with
 * no steps, so a rolled-back release's migration Job passes; anything that would move the
 * version would undo or hide the newer release's work, and is refused. `stamp --purge` is
 * the admin's repair tool and goes on.
 */
export function aheadOutcome (
  graph: RevisionGraph,
  analysis: StateAnalysis,
  request: { readonly kind: 'upgrade' | 'downgrade' | 'stamp', readonly target: ParsedTarget, readonly purge: boolean }
): AheadOutcome {
  if (analysis.ahead.length === 0 || (request.kind === 'stamp' && request.purge)) return 'proceed'
  if (request.kind !== 'upgrade' || !isCompatiblyAhead(analysis)) throw new DatabaseAheadError(analysis.ahead)
  const destination = resolveTarget(graph, analysis.knownHeads, request.target, 'up')
  if (planMigration(graph, analysis.knownHeads, destination.heads).length > 0) throw new DatabaseAheadError(analysis.ahead)
  return 'nothing-to-do'
}
