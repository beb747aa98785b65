/**
 * A revision is frozen SQL: it never imports application code, so replaying it years later
 * produces the schema it produced the day it shipped.
 */
export interface RevisionDefinition {
  /** Alembic-style id, e.g. `5c1b6116de51`. */
  readonly revision: string
  /** Parents; empty for a base revision, several for a merge. */
  readonly downRevisions: readonly string[]
  readonly description: string
  /** ISO 8601. */
  readonly createDate: string
  /**
   * `false` for statements PostgreSQL refuses inside a transaction block
   * (`CREATE INDEX CONCURRENTLY`); such a revision runs statement by statement.
   */
  readonly transactional?: boolean
  /**
   * The contract phase of expand/contract: once applied, replicas whose code lacks it can no
   * longer serve (a dropped column, a rename), so they turn unready and are replaced.
   */
  readonly breaking?: boolean
  /** Lint findings a person reviewed and judged safe, by rule name, with the reason. */
  readonly lint?: { readonly acknowledge?: Readonly<Record<string, string>> }
  readonly up: readonly string[]
  readonly down: readonly string[]
}

export interface Revision extends RevisionDefinition {
  readonly transactional: boolean
  readonly breaking: boolean
  /** Where it was loaded from, for error messages. */
  readonly file: string
  /** sha256 over the SQL it runs in both directions: what an applied revision is held to. */
  readonly checksum: string
}

export function defineRevision (definition: RevisionDefinition): RevisionDefinition {
  return definition
}

/** What a revision runs one way. */
export function statementsOf (revision: Revision, direction: 'up' | 'down'): readonly string[] {
  return direction === 'up' ? revision.up : revision.down
}
