import type { LockLevel } from './statements.js'

export type Severity = 'error' | 'warning' | 'info'

export interface Finding {
  readonly rule: string
  readonly severity: Severity
  readonly message: string
  /** Index into the step's `sql`. */
  readonly statement: number
  readonly table?: string
  readonly estimatedRows?: number | null
  readonly sizeBytes?: number
  readonly lock?: LockLevel
  /** The revision's reason for judging this finding safe; it is then not counted. */
  readonly acknowledged?: string
}

/** What a step would copy to the archive schema before it destroys it. */
export interface PlanArchive {
  readonly table: string
  /** null: whole rows. */
  readonly columns: string[] | null
  readonly estimatedRows: number
  readonly estimatedBytes: number
}

export interface PlanStepReview {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly description: string
  readonly transactional: boolean
  readonly sql: string[]
  readonly findings: Finding[]
  readonly archives: PlanArchive[]
}

export interface PlanApproval {
  readonly approvedBy: string
  readonly approvedAt: string
  readonly override: string | null
}

export interface MigrationPlan {
  readonly id: string
  readonly direction: 'upgrade' | 'downgrade'
  readonly target: string
  /** The heads the database was at when the plan was made: it applies only from there. */
  readonly from: string[]
  readonly to: string[]
  readonly createdAt: string
  readonly requestedBy: string
  readonly steps: PlanStepReview[]
  readonly summary: { readonly errors: number, readonly warnings: number, readonly acknowledged: number }
  readonly lint: {
    readonly linter: string
    readonly largeTableRows: number
    readonly excludedRules: Array<{ readonly rule: string, readonly reason: string }>
  }
  readonly approval: PlanApproval | null
}

export interface ReviewSettings {
  /** `MIGRATION_APPROVAL=required`: upgrades and downgrades need an approved plan. */
  readonly approvalRequired: boolean
  /** `LINT_LARGE_TABLE_ROWS`: from this many rows, a blocking statement is an error. */
  readonly largeTableRows: number
  /** `ARCHIVE_MAX_BYTES`: a step that would archive more says so in its findings. */
  readonly archiveMaxBytes: number
}

export const defaultReviewSettings: ReviewSettings = { approvalRequired: false, largeTableRows: 100_000, archiveMaxBytes: 1024 * 1024 * 1024 }
