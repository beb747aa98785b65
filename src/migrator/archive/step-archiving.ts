import { backfillText, type BackfillStep, type Revision } from '../revision.js'
import { quoted, restoreRecreated, takeArchive, type Archive, type ArchiveContext, type Query } from './archive-store.js'
import { archivingOf, type Destruction, type StatementArchiving } from './destruction.js'

/** What the archiving of one step needs besides the statements: whose they are, and how long archives are kept. */
export interface StepArchivingContext extends ArchiveContext {
  /** The revision's own `archive: { enabled: false, reason }`: nothing it destroys is archived. */
  readonly optedOut: boolean
}

export function stepArchivingContext (revision: Revision, direction: 'up' | 'down', operation: string | null, retentionDays: number): StepArchivingContext {
  return { revision: revision.revision, direction, operation, retentionDays, optedOut: revision.archive?.enabled === false }
}

/** Whether any statement destroys or re-creates data: the others run as one round trip, untouched. */
export function touchesArchives (statements: readonly string[]): boolean {
  return statements.some((statement) => {
    const archiving = archivingOf(statement)
    return archiving.destroys.length > 0 || archiving.createsTables.length > 0 || archiving.addsColumnsTo.length > 0
  })
}

/**
 * The hook any step kind calls before it destroys data (a revision's statement, a backfill that
 * overwrites values): archives each destruction on `query`, in the step's transaction.
 */
export async function archiveBeforeStep (query: Query, destructions: readonly Destruction[], context: ArchiveContext, options?: { readonly keepEmpty: boolean }): Promise<Archive[]> {
  const archives: Archive[] = []
  for (const destruction of destructions) {
    const archive = await takeArchive(query, destruction, context, options)
    if (archive !== null) archives.push(archive)
  }
  return archives
}

export async function archiveBeforeStatement (query: Query, archiving: StatementArchiving, context: StepArchivingContext): Promise<Archive[]> {
  if (context.optedOut || archiving.optOut !== null) return []
  return archiveBeforeStep(query, archiving.destroys, context)
}

/**
 * Before a backfill's first batch (and again when it resumes): the values its `SET` columns hold
 * in the rows its `WHERE` still selects, where any is not null. Filling in a new column
 * archives nothing (no empty archive is left); overwriting values keeps them, for `restore`.
 */
export async function archiveBeforeBackfill (query: Query, backfill: BackfillStep, context: StepArchivingContext): Promise<Archive[]> {
  const archiving = archivingOf(backfillText(backfill))
  if (context.optedOut || archiving.optOut !== null) return []
  return archiveBeforeStep(query, archiving.destroys.map((destruction) => {
    if (destruction.columns === null) return destruction
    const overwritten = destruction.columns.map((column) => `${quoted(column)} IS NOT NULL`).join(' OR ')
    return { ...destruction, where: `(${destruction.where ?? 'true'}) AND (${overwritten})` }
  }), context, { keepEmpty: false })
}

export async function restoreAfterStatement (query: Query, archiving: StatementArchiving): Promise<Archive[]> {
  const restored: Archive[] = []
  for (const table of archiving.createsTables) restored.push(...await restoreRecreated(query, table, 'table'))
  for (const table of archiving.addsColumnsTo) restored.push(...await restoreRecreated(query, table, 'columns'))
  return restored
}

/** A transactional step's statements one by one, each destruction archived before it and each re-creation restored after it. */
export async function runArchivedStatements (query: Query, statements: readonly string[], context: StepArchivingContext): Promise<void> {
  for (const statement of statements) {
    const archiving = archivingOf(statement)
    await archiveBeforeStatement(query, archiving, context)
    await query(statement)
    await restoreAfterStatement(query, archiving)
  }
}
