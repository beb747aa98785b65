import type { Knex } from 'knex'
import { archivingOf, type Revision } from '../migrator/index.js'
import type { Finding, PlanArchive } from './types.js'

/** What the catalog says of a table at plan time; absent for a table the plan creates first. */
interface TableSize {
  readonly rows: number
  readonly bytes: number
  readonly columnCount: number
  /** `pg_stats.avg_width` by column, where the table was analyzed. */
  readonly widths: Readonly<Record<string, number>>
  readonly key: readonly string[]
}

const sizeQuery = `SELECT greatest(c.reltuples, 0)::bigint AS rows, pg_table_size(c.oid) AS bytes,
  (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS column_count,
  (SELECT coalesce(json_object_agg(s.attname, s.avg_width), '{}') FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname) AS widths,
  (SELECT coalesce(json_agg(a.attname), '[]') FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = c.oid AND i.indisprimary) AS key
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(?)`

/**
 * What each statement of a step would archive, estimated from the catalog (no table is read):
 * whole rows are the table's size; columns are rows × their average width where the table was
 * analyzed, else their share of the table's size. A `DELETE` or `UPDATE` is sized as if it
 * matched every row: an upper bound.
 */
export async function estimateArchives (knex: Knex, revision: Revision, statements: readonly string[]): Promise<PlanArchive[]> {
  if (revision.archive?.enabled === false) return []
  const archives: PlanArchive[] = []
  for (const sql of statements) {
    const archiving = archivingOf(sql)
    if (archiving.optOut !== null) continue
    for (const destruction of archiving.destroys) {
      const size = await tableSize(knex, destruction.table)
      if (size === null) continue
      const columns = destruction.columns === null || size.key.length === 0 ? null : [...destruction.columns]
      archives.push({ table: destruction.table, columns, estimatedRows: size.rows, estimatedBytes: estimatedBytes(size, columns) })
    }
  }
  return archives
}

async function tableSize (knex: Knex, table: string): Promise<TableSize | null> {
  const row = (await knex.raw<{ rows: Array<{ rows: string, bytes: string, column_count: string, widths: Record<string, number>, key: string[] }> }>(sizeQuery, [table])).rows[0]
  if (row === undefined) return null
  return { rows: Number(row.rows), bytes: Number(row.bytes), columnCount: Number(row.column_count), widths: row.widths, key: row.key }
}

function estimatedBytes (size: TableSize, columns: readonly string[] | null): number {
  if (columns === null) return size.bytes
  const kept = [...size.key, ...columns]
  if (kept.every((column) => size.widths[column] !== undefined)) {
    return size.rows * kept.reduce((sum, column) => sum + (size.widths[column] ?? 0), 0)
  }
  return Math.round(size.bytes * Math.min(1, kept.length / Math.max(1, size.columnCount)))
}

/**
 * Never silent: an archive above `ARCHIVE_MAX_BYTES`, and a revision or statement that opted
 * out of archiving, with its reason.
 */
export function archiveFindings (revision: Revision, statements: readonly string[], archives: readonly PlanArchive[], archiveMaxBytes: number): Finding[] {
  const findings: Finding[] = []
  statements.forEach((sql, index) => {
    const archiving = archivingOf(sql)
    if (archiving.destroys.length === 0) return
    const reason = revision.archive?.enabled === false ? revision.archive.reason : archiving.optOut
    if (reason !== null) {
      findings.push({ rule: 'archive-disabled', severity: 'warning', statement: index, table: archiving.destroys[0]?.table, message: `What this statement destroys is not archived (archive: false): ${reason}. Once it runs, only a backup brings it back.` })
    }
  })
  for (const archive of archives) {
    if (archive.estimatedBytes <= archiveMaxBytes) continue
    const statement = statements.findIndex((sql) => archivingOf(sql).destroys.some((destruction) => destruction.table === archive.table))
    findings.push({
      rule: 'archive-too-large',
      severity: 'warning',
      statement: Math.max(0, statement),
      table: archive.table,
      estimatedRows: archive.estimatedRows,
      sizeBytes: archive.estimatedBytes,
      message: `This step would archive about ${archive.estimatedBytes} bytes of ${archive.table}, above ARCHIVE_MAX_BYTES (${archiveMaxBytes}): the copy runs in the step's transaction and holds its locks meanwhile. Opt out with a reason (archive: false) if a backup covers it.`,
    })
  }
  return findings
}
