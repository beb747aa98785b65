import type { RevisionGraph } from './graph.js'

export interface PlanStep {
  readonly revision: string
  readonly direction: 'up' | 'down'
}

/** The steps from `current` to `desired` heads: downs first (children before parents), then ups (parents first). */
export function planMigration (graph: RevisionGraph, current: readonly string[], desiredHeads: readonly string[]): PlanStep[] {
  const from = graph.closure(current)
  const to = graph.closure(desiredHeads)
  const order = graph.all().map((revision) => revision.revision)
  const downs = order.filter((id) => from.has(id) && !to.has(id)).reverse().map((revision) => ({ revision, direction: 'down' as const }))
  const ups = order.filter((id) => to.has(id) && !from.has(id)).map((revision) => ({ revision, direction: 'up' as const }))
  return [...downs, ...ups]
}

/** What `alembic_version` holds once one step commits. */
export function headsAfterStep (graph: RevisionGraph, heads: readonly string[], step: PlanStep): string[] {
  const applied = graph.closure(heads)
  if (step.direction === 'up') applied.add(step.revision)
  else applied.delete(step.revision)
  return graph.headsOf(applied)
}

/** A move that only adds revisions: a stamp the `migrate` scope may make. */
export function isForward (graph: RevisionGraph, from: readonly string[], to: readonly string[]): boolean {
  const before = graph.closure(from)
  const after = graph.closure(to)
  return [...before].every((id) => after.has(id))
}
