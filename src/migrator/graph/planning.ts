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

/**
 * The applied set behind heads this module returned: a plan's next step starts from it, so a
 * step costs its revision's links, not a walk of every applied revision. Taken once, as the
 * set is changed in place for the step.
 */
const appliedBehind = new WeakMap<readonly string[], { readonly graph: RevisionGraph, readonly applied: Set<string> }>()

/** What `alembic_version` holds once one step commits. */
export function headsAfterStep (graph: RevisionGraph, heads: readonly string[], step: PlanStep): string[] {
  const known = appliedBehind.get(heads)
  appliedBehind.delete(heads)
  const fast = known?.graph === graph
  const applied = fast ? known.applied : graph.closure(heads)
  const after = fast ? nextHeads(graph, heads, applied, step) : null
  if (step.direction === 'up') applied.add(step.revision)
  else applied.delete(step.revision)
  const result = after ?? graph.headsOf(applied)
  appliedBehind.set(result, { graph, applied })
  return result
}

/**
 * `heads` are exactly the childless members of `applied`: an up step replaces the parents it
 * revises, a down step gives way to the parents left childless. Null for a step that does not
 * fit the applied set (not the plan's), which the whole walk then answers.
 */
function nextHeads (graph: RevisionGraph, heads: readonly string[], applied: ReadonlySet<string>, step: PlanStep): string[] | null {
  const { downRevisions } = graph.get(step.revision)
  if (step.direction === 'up') {
    if (applied.has(step.revision) || !downRevisions.every((parent) => applied.has(parent))) return null
    return graph.inOrder([...heads.filter((id) => !downRevisions.includes(id)), step.revision])
  }
  if (!heads.includes(step.revision)) return null
  const childless = downRevisions.filter((parent) => !graph.children(parent).some((child) => child !== step.revision && applied.has(child)))
  return graph.inOrder(new Set([...heads.filter((id) => id !== step.revision), ...childless]))
}

/** A move that only adds revisions: a stamp the `migrate` scope may make. */
export function isForward (graph: RevisionGraph, from: readonly string[], to: readonly string[]): boolean {
  const before = graph.closure(from)
  const after = graph.closure(to)
  return [...before].every((id) => after.has(id))
}
