/** Why `aip-schema test` could not run at all, as opposed to a revision failing it: named by `kind`. */
export class RevisionTestError extends Error {
  override readonly name = 'RevisionTestError'
  readonly kind: RevisionTestErrorKind

  constructor (kind: RevisionTestErrorKind, message: string) {
    super(message)
    this.kind = kind
  }
}

export type RevisionTestErrorKind =
  /** `--from` or `--to` names no revision, or `--from` is not below `--to`. */
  | 'bad-bounds'
  /** The run was stopped (Ctrl+C) before it ended; the scratch database is dropped all the same. */
  | 'interrupted'
