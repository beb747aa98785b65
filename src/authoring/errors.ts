/** Why a revision could not be written: what happened, named by `kind` as a problem type is; the adapter says what to do next. */
export class AuthoringError extends Error {
  override readonly name = 'AuthoringError'
  readonly kind: AuthoringErrorKind

  constructor (kind: AuthoringErrorKind, message: string) {
    super(message)
    this.kind = kind
  }
}

export type AuthoringErrorKind =
  | 'no-migrations-dir'
  | 'not-a-head'
  | 'multiple-heads'
  | 'nothing-to-merge'
  | 'not-a-branch'
  | 'database-ahead'
  | 'database-not-at-head'
  | 'sql-file-failed'
  | 'autogenerate-verification-failed'
  | 'invalid-table'

export function fail (kind: AuthoringErrorKind, message: string): never {
  throw new AuthoringError(kind, message)
}
