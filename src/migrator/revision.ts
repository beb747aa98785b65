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
   * `false` (or a backfill step) for statements PostgreSQL refuses inside a transaction block
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
  /**
   * What it destroys is archived unless a person said why not: `{ enabled: false, reason }`.
   * One statement opts out with a comment in it: `-- archive: false <reason>`.
   */
  readonly archive?: { readonly enabled: false, readonly reason: string }
  readonly up: readonly RevisionStep[]
  readonly down: readonly RevisionStep[]
}

/**
 * `UPDATE table SET <set> WHERE <where>` in keyset batches on `key`, each batch its own short
 * transaction with its checkpoint: for rewriting the rows of a large table without holding a
 * lock on all of them until one commit. `set` and `where` are the revision's own frozen SQL;
 * `where` selects the rows still to do, so a batch run twice changes nothing the second time.
 */
export interface BackfillStep {
  readonly table: string
  readonly set: string
  readonly where: string
  /** The first batch's size; later batches adapt to `targetBatchMs`. */
  readonly batchSize?: number
  readonly targetBatchMs?: number
  /** A rest between batches, for the traffic. */
  readonly pauseMs?: number
  /** A single-column key to walk in order; the table's primary key by default. */
  readonly key?: string
}

/** A step of a revision: a SQL statement, or a batched backfill. */
export type RevisionStep = string | { readonly backfill: BackfillStep }

export function isBackfill (step: RevisionStep): step is { readonly backfill: BackfillStep } {
  return typeof step !== 'string'
}

/** A backfill as the SQL it amounts to, for the plan, its lint and the audit: said to run in batches. */
export function backfillText (backfill: BackfillStep): string {
  return `-- batched backfill (keyset batches on ${backfill.key ?? 'the primary key'}, each its own transaction)\nUPDATE ${backfill.table} SET ${backfill.set} WHERE ${backfill.where}`
}

export function revisionHasBackfill (definition: RevisionDefinition): boolean {
  return [...definition.up, ...definition.down].some(isBackfill)
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

/** What a revision runs one way, steps as written. */
export function stepsOf (revision: Revision, direction: 'up' | 'down'): readonly RevisionStep[] {
  return direction === 'up' ? revision.up : revision.down
}

/** What a revision runs one way, as text: a backfill as the UPDATE it amounts to, marked batched. */
export function statementsOf (revision: Revision, direction: 'up' | 'down'): readonly string[] {
  return stepsOf(revision, direction).map((step) => isBackfill(step) ? backfillText(step.backfill) : step)
}
