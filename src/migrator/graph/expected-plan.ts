import { PlanStaleError } from '../errors.js'
import type { DatabaseState } from '../store/state.js'
import type { Plan } from './plan.js'
import type { PlanStep } from './planning.js'

/** What an approved plan was made against and would run: applied only while both still hold. */
export interface ExpectedPlan {
  readonly from: readonly string[]
  readonly steps: readonly PlanStep[]
}

/** Checked on the state read under the migration lock, and its plan, so no other replica can move it afterwards. */
export function assertExpectedPlan (state: DatabaseState, plan: Plan, expected: ExpectedPlan): void {
  const sameFrom = state.heads.length === expected.from.length && state.heads.every((id) => expected.from.includes(id))
  const sameSteps = plan.steps.length === expected.steps.length &&
    plan.steps.every((step, index) => step.revision === expected.steps[index]?.revision && step.direction === expected.steps[index]?.direction)
  if (!sameFrom || !sameSteps) throw new PlanStaleError(expected.from, state.heads)
}
