import type { CatalogError, CatalogErrorKind } from '../catalog/errors.js'
import type { DataError, DataErrorKind } from '../data/errors.js'
import type { MigratorError, MigratorErrorKind } from '../migrator/index.js'
import type { ReviewError, ReviewErrorKind } from '../review/errors.js'
import { isDatabaseUnavailable, isStatementTimeout } from '../database/pg-errors.js'

/** RFC 9457 problem details. `type` is a relative URI reference naming the problem. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  [extension: string]: unknown
}

export class ProblemError extends Error {
  readonly problem: Problem
  constructor (problem: Problem) {
    super(problem.detail)
    this.problem = problem
  }
}

export function problem (status: number, type: string, title: string, detail: string, extensions: Record<string, unknown> = {}): ProblemError {
  return new ProblemError({ type, title, status, detail, ...extensions })
}

const migratorProblems: Record<MigratorErrorKind, { status: number, title: string }> = {
  'invalid-revision-graph': { status: 500, title: 'The revision graph is invalid' },
  'invalid-target': { status: 400, title: 'Invalid target' },
  'unknown-revision': { status: 404, title: 'Unknown revision' },
  'ambiguous-revision': { status: 400, title: 'Ambiguous revision' },
  'multiple-heads': { status: 400, title: 'Multiple heads' },
  'wrong-direction': { status: 400, title: 'Target in the wrong direction' },
  'lock-not-acquired': { status: 409, title: 'The migration lock is held elsewhere' },
  'database-state-mismatch': { status: 409, title: 'The database does not match the revisions' },
  'database-ahead': { status: 409, title: 'The database is ahead of this code' },
  'migration-failed': { status: 500, title: 'Migration failed' },
  'operation-not-found': { status: 404, title: 'Operation not found' },
  'invalid-cursor': { status: 400, title: 'Invalid cursor' },
  'stamp-not-allowed': { status: 403, title: 'Stamping backwards needs the admin scope' },
  'shutting-down': { status: 503, title: 'The service is shutting down' },
  'pooled-migration-connection': { status: 409, title: 'The migration connection goes through a transaction pooler' },
  'plan-stale': { status: 409, title: 'The plan no longer matches the database' },
}

/** The one place engine errors become HTTP: status from the kind, fields carried over as extensions. */
export function problemFromMigratorError (error: MigratorError): Problem {
  const { status, title } = migratorProblems[error.kind]
  const extensions: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(error)) {
    if (key === 'kind') continue
    extensions[key === 'databaseCode' ? 'code' : key] = value
  }
  // A migration cut off by the database going away did not fail on its SQL: retry once it is back.
  if (error.kind === 'migration-failed' && isDatabaseUnavailable(error.cause)) {
    return { ...databaseUnavailable(error.message), ...extensions }
  }
  return { type: error.kind, title, status, detail: error.message, ...extensions }
}

/** Errors of the database itself rather than of the request: 503, so clients and balancers retry. */
export function problemFromDatabaseError (error: unknown): Problem | null {
  if (isDatabaseUnavailable(error)) return databaseUnavailable('the database cannot be reached or has no free connection; retry shortly')
  if (isStatementTimeout(error)) {
    return { type: 'database-timeout', title: 'The database did not answer in time', status: 503, detail: 'the query ran past its statement timeout and was cancelled; retry shortly' }
  }
  return null
}

function databaseUnavailable (detail: string): Problem {
  return { type: 'database-unavailable', title: 'The database is unavailable', status: 503, detail }
}

const catalogProblems: Record<CatalogErrorKind, { status: number, title: string }> = {
  'schema-snapshot-missing': { status: 409, title: 'No expected schema for this revision' },
  'drift-needs-one-revision': { status: 409, title: 'Drift is measured at one revision' },
}

/** Drift that cannot be measured: the database's state, not the request, stands in the way. */
export function problemFromCatalogError (error: CatalogError): Problem {
  const { status, title } = catalogProblems[error.kind]
  const { kind: _kind, ...extensions } = { ...error }
  return { type: error.kind, title, status, detail: error.message, ...extensions }
}

/** Where in the request a data error's `field` came from: the problem names it as a client must fix it. */
const dataProblems: Record<DataErrorKind, { status: number, title: string, fieldIn: 'body' | 'querystring' }> = {
  'parent-not-found': { status: 422, title: 'Parent not found', fieldIn: 'body' },
  duplicate: { status: 409, title: 'Duplicate', fieldIn: 'body' },
  'illegal-transition': { status: 409, title: 'Illegal status transition', fieldIn: 'body' },
  'patch-too-large': { status: 400, title: 'Patch too large', fieldIn: 'body' },
  'invalid-cursor': { status: 400, title: 'Invalid cursor', fieldIn: 'querystring' },
}

export function problemFromDataError (error: DataError): Problem {
  const { status, title, fieldIn } = dataProblems[error.kind]
  const { kind: _kind, ...extensions } = { ...error } as Record<string, unknown>
  if (typeof extensions.field === 'string') extensions.field = `${fieldIn}.${extensions.field}`
  return { type: error.kind, title, status, detail: error.message, ...extensions }
}

const reviewProblems: Record<ReviewErrorKind, { status: number, title: string }> = {
  'plan-not-found': { status: 404, title: 'Plan not found' },
  'approval-required': { status: 409, title: 'An approved plan is required' },
  'plan-not-approved': { status: 409, title: 'The plan is not approved' },
  'plan-already-approved': { status: 409, title: 'The plan is already approved' },
  'plan-has-errors': { status: 409, title: 'The plan has unacknowledged errors' },
  'self-approval': { status: 403, title: 'A plan is approved by another token' },
  'plan-mismatch': { status: 400, title: 'The plan is for another migration' },
}

export function problemFromReviewError (error: ReviewError): Problem {
  const { status, title } = reviewProblems[error.kind]
  const { kind: _kind, ...extensions } = { ...error }
  return { type: error.kind, title, status, detail: error.message, ...extensions }
}
