import { PlanStaleError } from '../errors.js'
import type { RevisionGraph } from './graph.js'
import { planMigration, type PlanStep } from './planning.js'
import type { DatabaseState } from '../store/state.js'
import { resolveTarget, type ParsedTarget } from './targets.js'

/** What an approved plan was made against and would run: applied only while both still hold. */
export interface ExpectedPlan {
  readonly from: readonly string[]
  readonly steps: readonly PlanStep[]
}

/** Checked on the state read under the migration lock, so no other replica can move it afterwards. */
export function assertExpectedPlan (graph: RevisionGraph, state: DatabaseState, target: string | ParsedTarget, direction: 'up' | 'down', expected: ExpectedPlan): void {
  const sameFrom = state.heads.length === expected.from.length && state.heads.every((id) => expected.from.includes(id))
  const steps = sameFrom ? planMigration(graph, state.heads, resolveTarget(graph, state.heads, target, direction).heads) : []
  const sameSteps = steps.length === expected.steps.length &&
    steps.every((step, index) => step.revision === expected.steps[index]?.revision && step.direction === expected.steps[index]?.direction)
  if (!sameFrom || !sameSteps) throw new PlanStaleError(expected.from, state.heads)
}
