import { ApprovalRequiredError, PlanHasErrorsError, PlanNotApprovedError, type ReviewError } from '../review/errors.js'

/** What a client of the HTTP API does about a review error, in its own requests; null where the message says it all. */
export function nextStepOverHttp (error: ReviewError): string | null {
  if (error instanceof ApprovalRequiredError) {
    const body = error.direction === 'downgrade' ? ' with { "direction": "downgrade", "target": ... }' : ''
    return `create a plan with POST /migrations/plan${body}, have an admin approve it with POST /migrations/plans/{id}/approve, then send its id as planId`
  }
  if (error instanceof PlanNotApprovedError) return `an admin approves it with POST /migrations/plans/${error.planId}/approve`
  if (error instanceof PlanHasErrorsError) return 'approve it with { "override": "<reason>" }, or acknowledge the findings in the revisions'
  return null
}
