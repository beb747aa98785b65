/**
 * Every problem type the service answers, with its one title and status. A problem is made only
 * from an entry here (`problem()`, `problemOf()`), so a type cannot be invented on the spot; the
 * OpenAPI document lists these as the values of `Problem.type`. Types CONTRACT.md names
 * (`schema-not-ready`, `database-ahead`, `approval-required`, `plan-stale`) are kept as they are.
 */
export const problemTypes = {
  // The request itself: HTTP, the router, the body parser, the schemas.
  'malformed-request': { status: 400, title: 'Bad request' },
  'bad-url': { status: 400, title: 'Bad request' },
  'bad-request': { status: 400, title: 'Bad request' },
  'malformed-json': { status: 400, title: 'Malformed JSON' },
  'content-length-mismatch': { status: 400, title: 'Bad request' },
  'validation-failed': { status: 400, title: 'Invalid request' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'not-acceptable': { status: 406, title: 'Not acceptable' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'ctp-body-too-large': { status: 413, title: 'Payload too large' },
  'uri-too-long': { status: 414, title: 'URI too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'range-not-satisfiable': { status: 416, title: 'Range not satisfiable' },
  'header-fields-too-large': { status: 431, title: 'Request header fields too large' },
  // Who asks, and how often.
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  // The migration engine.
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
  'archive-not-found': { status: 404, title: 'Archive not found' },
  'archive-conflict': { status: 409, title: 'The archive cannot be restored there' },
  'backup-failed': { status: 409, title: 'The backup before the migration failed; it did not start' },
  'backfill-stopped': { status: 409, title: 'The backfill was paused or cancelled' },
  'not-pausable': { status: 409, title: 'The operation is not running a backfill' },
  // Plans and approvals.
  'plan-not-found': { status: 404, title: 'Plan not found' },
  'approval-required': { status: 409, title: 'An approved plan is required' },
  'plan-not-approved': { status: 409, title: 'The plan is not approved' },
  'plan-already-approved': { status: 409, title: 'The plan is already approved' },
  'plan-has-errors': { status: 409, title: 'The plan has unacknowledged errors' },
  'self-approval': { status: 403, title: 'A plan is approved by another token' },
  'plan-mismatch': { status: 400, title: 'The plan is for another migration' },
  // Rollouts over the fleet's targets.
  'rollout-not-found': { status: 404, title: 'Rollout not found' },
  'rollout-target-not-found': { status: 404, title: 'The rollout has no such target' },
  'rollout-transition': { status: 409, title: 'The rollout cannot do that now' },
  'no-targets': { status: 400, title: 'No target selected' },
  'not-promoted': { status: 409, title: 'An earlier environment is not at this revision' },
  // Schema drift.
  'schema-snapshot-missing': { status: 409, title: 'No expected schema for this revision' },
  'drift-needs-one-revision': { status: 409, title: 'Drift is measured at one revision' },
  // The data endpoints.
  'schema-not-ready': { status: 503, title: 'The database schema is not ready' },
  'fitted-transformer-not-found': { status: 404, title: 'Not found' },
  'parent-not-found': { status: 422, title: 'Parent not found' },
  duplicate: { status: 409, title: 'Duplicate' },
  'illegal-transition': { status: 409, title: 'Illegal status transition' },
  'patch-too-large': { status: 400, title: 'Patch too large' },
  // The service itself.
  'database-unavailable': { status: 503, title: 'The database is unavailable' },
  'database-timeout': { status: 503, title: 'The database did not answer in time' },
  'internal-error': { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { readonly status: number, readonly title: string }>

export type ProblemType = keyof typeof problemTypes
