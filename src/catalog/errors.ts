/**
 * Why a drift check cannot answer: structured fields, no HTTP. src/http/problems.ts maps each
 * `kind` to a status; the command line to an exit code.
 */
export abstract class CatalogError extends Error {
  abstract readonly kind: CatalogErrorKind
  override get name (): string { return this.constructor.name }
}

export type CatalogErrorKind = 'schema-snapshot-missing' | 'drift-needs-one-revision'

/** The database is at a revision this build ships no expected schema for. */
export class SchemaSnapshotMissingError extends CatalogError {
  readonly revision: string
  readonly kind = 'schema-snapshot-missing'
  constructor (revision: string) {
    super(`there is no schema snapshot for revision ${revision}: run \`npm run schema:snapshots\` and commit schema-snapshots/`)
    this.revision = revision
  }
}

/** Snapshots describe one revision each; unmerged heads describe several at once. */
export class DriftNeedsOneRevisionError extends CatalogError {
  readonly heads: readonly string[]
  readonly kind = 'drift-needs-one-revision'
  constructor (heads: readonly string[]) {
    super(`the database is at several heads (${heads.join(', ')}); drift is measured against one revision's schema: merge them or downgrade to one`)
    this.heads = heads
  }
}
