import type { MigratorError, MigratorErrorKind } from '../migrator/errors.js'

/** RFC 9457 problem details. `type` is a relative URI reference naming the problem. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  [extension: string]: unknown
}

export class ProblemError extends Error {
  constructor (readonly problem: Problem) {
    super(problem.detail)
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
  'migration-failed': { status: 500, title: 'Migration failed' },
  'operation-not-found': { status: 404, title: 'Operation not found' },
  'stamp-not-allowed': { status: 403, title: 'Stamping backwards needs the admin scope' },
}

/** The one place engine errors become HTTP: status from the kind, fields carried over as extensions. */
export function problemFromMigratorError (error: MigratorError): Problem {
  const { status, title } = migratorProblems[error.kind]
  const extensions: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(error)) {
    if (key === 'kind') continue
    extensions[key === 'databaseCode' ? 'code' : key] = value
  }
  return { type: error.kind, title, status, detail: error.message, ...extensions }
}
