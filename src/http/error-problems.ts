import type { CatalogError } from '../catalog/errors.js'
import type { DataError, DataErrorKind } from '../data/errors.js'
import type { MigratorError } from '../migrator/index.js'
import type { ReviewError } from '../review/errors.js'
import type { RolloutError } from '../fleet/rollouts/errors.js'
import { isDatabaseUnavailable, isStatementTimeout } from '../database/pg-errors.js'
import { problemOf, type Problem } from './problems.js'
import { nextStepOverHttp } from './next-steps.js'

/*
 * Each layer's errors carry a `kind` that is a problem type of the catalogue: a kind added to a
 * layer without an entry there does not compile. The error's fields go along as extensions.
 */

/** The one place engine errors become HTTP: status from the kind, fields carried over as extensions. */
export function problemFromMigratorError (error: MigratorError): Problem {
  const extensions: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(error)) {
    if (key === 'kind') continue
    extensions[key === 'databaseCode' ? 'code' : key] = value
  }
  // A migration cut off by the database going away did not fail on its SQL: retry once it is back.
  if (error.kind === 'migration-failed' && isDatabaseUnavailable(error.cause)) {
    return problemOf('database-unavailable', error.message, extensions)
  }
  return problemOf(error.kind, error.message, extensions)
}

/** Errors of the database itself rather than of the request: 503, so clients and balancers retry. */
export function problemFromDatabaseError (error: unknown): Problem | null {
  if (isDatabaseUnavailable(error)) return problemOf('database-unavailable', 'the database cannot be reached or has no free connection; retry shortly')
  if (isStatementTimeout(error)) return problemOf('database-timeout', 'the query ran past its statement timeout and was cancelled; retry shortly')
  return null
}

/** Drift that cannot be measured: the database's state, not the request, stands in the way. */
export function problemFromCatalogError (error: CatalogError): Problem {
  const { kind, ...extensions } = { ...error }
  return problemOf(kind, error.message, extensions)
}

/** Where in the request a data error's `field` came from: the problem names it as a client must fix it. */
const fieldIn: Record<DataErrorKind, 'body' | 'querystring'> = {
  'parent-not-found': 'body',
  duplicate: 'body',
  'illegal-transition': 'body',
  'patch-too-large': 'body',
  'invalid-cursor': 'querystring',
}

export function problemFromDataError (error: DataError): Problem {
  const { kind, ...extensions } = { ...error } as Record<string, unknown> & { kind: DataErrorKind }
  if (typeof extensions.field === 'string') extensions.field = `${fieldIn[kind]}.${extensions.field}`
  return problemOf(kind, error.message, extensions)
}

/** The review says what happened; over HTTP the answer adds, as `nextStep`, which request comes next. */
export function problemFromReviewError (error: ReviewError): Problem {
  const { kind, ...extensions } = { ...error }
  const nextStep = nextStepOverHttp(error)
  return problemOf(kind, error.message, nextStep === null ? extensions : { ...extensions, nextStep })
}

/** A rollout's refusal: the kind is its problem type, the fields (environment, behind) its extensions. */
export function problemFromRolloutError (error: RolloutError): Problem {
  const { kind, ...extensions } = { ...error }
  return problemOf(kind, error.message, extensions)
}
