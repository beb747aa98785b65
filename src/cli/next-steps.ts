import type { CliProblem } from './api.js'

/**
 * What to run next about a failure, in this tool's commands; null where the message says it all.
 * Keyed by problem type, so a failure told by the service and one raised here read the same.
 */
export function nextStepInCli (problem: CliProblem): string | null {
  const planId = typeof problem.planId === 'string' ? problem.planId : '<planId>'
  switch (problem.type) {
    case 'approval-required':
      return problem.direction === 'downgrade'
        ? 'aip-schema plan <target> --downgrade, and an admin runs aip-schema approve <planId>; the CLI\'s downgrade takes no plan: send the planId to POST /migrations/downgrade'
        : 'aip-schema plan, an admin runs aip-schema approve <planId>, then aip-schema upgrade --plan <planId>'
    case 'plan-not-approved':
      return `an admin runs aip-schema approve ${planId}`
    case 'plan-has-errors':
      return `aip-schema approve ${planId} --override "<reason>", or acknowledge the findings in the revisions`
    default:
      return null
  }
}
