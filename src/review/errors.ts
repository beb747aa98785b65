/**
 * Plans and approvals: one family, structured fields, no HTTP (src/http/error-problems.ts maps
 * each `kind` to a problem type). A message says what happened; what to do next is the adapter's
 * to say, in its own terms (a request, a command). A plan that no longer matches the database is the engine's own
 * `PlanStaleError`: only the engine can tell, under the migration lock.
 */
export abstract class ReviewError extends Error {
  abstract readonly kind: ReviewErrorKind
  override get name (): string { return this.constructor.name }
}

export type ReviewErrorKind =
  | 'plan-not-found'
  | 'approval-required'
  | 'plan-not-approved'
  | 'plan-already-approved'
  | 'plan-has-errors'
  | 'self-approval'
  | 'plan-mismatch'

export class PlanNotFoundError extends ReviewError {
  readonly planId: string
  readonly kind = 'plan-not-found'
  constructor (planId: string) {
    super(`no migration plan with id '${planId}'`)
    this.planId = planId
  }
}

export class ApprovalRequiredError extends ReviewError {
  readonly direction: 'upgrade' | 'downgrade'
  readonly kind = 'approval-required'
  constructor (direction: 'upgrade' | 'downgrade') {
    super(`MIGRATION_APPROVAL=required: ${direction === 'upgrade' ? 'an upgrade' : 'a downgrade'} needs an approved plan, and none was named`)
    this.direction = direction
  }
}

export class PlanNotApprovedError extends ReviewError {
  readonly planId: string
  readonly kind = 'plan-not-approved'
  constructor (planId: string) {
    super(`plan ${planId} is not approved`)
    this.planId = planId
  }
}

export class PlanAlreadyApprovedError extends ReviewError {
  readonly planId: string
  readonly approvedBy: string
  readonly approvedAt: string
  readonly kind = 'plan-already-approved'
  constructor (planId: string, approvedBy: string, approvedAt: string) {
    super(`plan ${planId} was already approved by ${approvedBy} at ${approvedAt}`)
    this.planId = planId
    this.approvedBy = approvedBy
    this.approvedAt = approvedAt
  }
}

export class PlanHasErrorsError extends ReviewError {
  readonly planId: string
  readonly errors: number
  readonly kind = 'plan-has-errors'
  constructor (planId: string, errors: number) {
    super(`plan ${planId} has ${errors} unacknowledged error finding${errors === 1 ? '' : 's'}`)
    this.planId = planId
    this.errors = errors
  }
}

/** Four eyes: with several admin tokens, the one that asked for a plan does not approve it. */
export class SelfApprovalError extends ReviewError {
  readonly planId: string
  readonly kind = 'self-approval'
  constructor (planId: string) {
    super(`plan ${planId} was asked for with this token: another admin token must approve it`)
    this.planId = planId
  }
}

/** A plan used for what it was not made for: a downgrade's plan on upgrade, another target. */
export class PlanMismatchError extends ReviewError {
  readonly planId: string
  readonly kind = 'plan-mismatch'
  constructor (planId: string, reason: string) {
    super(`plan ${planId} ${reason}`)
    this.planId = planId
  }
}
