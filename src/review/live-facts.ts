import type { Knex } from 'knex'

export interface TableFacts {
  /** The table itself, also when the statement named one of its indexes. */
  readonly table: string
  /** `pg_class.reltuples` as of the last ANALYZE or VACUUM; null when the table never had either. */
  readonly estimatedRows: number | null
  /** `pg_total_relation_size`: the table with its indexes and TOAST. */
  readonly sizeBytes: number
}

export interface ColumnRef {
  readonly table: string
  readonly column: string
}

export interface LiveFacts {
  /** By the name as written in the statement; absent when no such relation exists. */
  readonly tables: ReadonlyMap<string, TableFacts>
  /** `format_type` of existing columns, by `table.column` as written. */
  readonly columnTypes: ReadonlyMap<string, string>
}

const tablesQuery = `SELECT n.name, t.relname::text AS "table", t.reltuples::float8 AS reltuples, pg_total_relation_size(t.oid)::float8 AS size
  FROM unnest(CAST(? AS text[])) AS n(name)
  JOIN pg_class c ON c.oid = to_regclass(n.name)
  LEFT JOIN pg_index i ON i.indexrelid = c.oid
  JOIN pg_class t ON t.oid = coalesce(i.indrelid, c.oid)`

const columnsQuery = `SELECT n.tbl || '.' || n.col AS key, format_type(a.atttypid, a.atttypmod) AS type
  FROM unnest(CAST(? AS text[]), CAST(? AS text[])) AS n(tbl, col)
  JOIN pg_attribute a ON a.attrelid = to_regclass(n.tbl) AND a.attname = n.col AND NOT a.attisdropped`

/** Read from the catalog in two round trips, with no lock beyond what a catalog read takes. */
export async function readLiveFacts (knex: Knex, tables: readonly string[], columns: readonly ColumnRef[]): Promise<LiveFacts> {
  const [tableRows, columnRows] = await Promise.all([
    tables.length === 0
      ? []
      : knex.raw<{ rows: Array<{ name: string, table: string, reltuples: number, size: number }> }>(tablesQuery, [[...new Set(tables)]]).then((result) => result.rows),
    columns.length === 0
      ? []
      : knex.raw<{ rows: Array<{ key: string, type: string }> }>(columnsQuery, [columns.map((ref) => ref.table), columns.map((ref) => ref.column)]).then((result) => result.rows),
  ])
  return {
    tables: new Map(tableRows.map((row) => [row.name, {
      table: row.table,
      // -1 is PostgreSQL's "never analyzed"; an empty but analyzed table says 0.
      estimatedRows: row.reltuples < 0 ? null : Math.round(row.reltuples),
      sizeBytes: row.size,
    }])),
    columnTypes: new Map(columnRows.map((row) => [row.key, row.type])),
  }
}
