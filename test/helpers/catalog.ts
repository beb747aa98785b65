import type { Knex } from 'knex'

const bookkeeping = ['alembic_version', 'knex_migrations', 'knex_migrations_lock', 'aip_schema_revisions', 'aip_schema_operations']

export interface CatalogSnapshot {
  tables: Record<string, {
    columns: string[]
    constraints: string[]
    indexes: string[]
  }>
}

/** The application schema as pg_catalog describes it, bookkeeping left out: what a migration must restore exactly. */
export async function snapshotCatalog (knex: Knex): Promise<CatalogSnapshot> {
  const columns = await knex.raw<{ rows: Array<{ table: string, line: string }> }>(`
    SELECT c.relname AS table,
           a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END ||
           coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS line
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relkind = 'r'
     ORDER BY c.relname, a.attname`)
  const constraints = await knex.raw<{ rows: Array<{ table: string, line: string }> }>(`
    SELECT c.relname AS table, k.conname || ' ' || pg_get_constraintdef(k.oid) AS line
      FROM pg_constraint k
      JOIN pg_class c ON c.oid = k.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
     ORDER BY 1, 2`)
  const indexes = await knex.raw<{ rows: Array<{ table: string, line: string }> }>(`
    SELECT tablename AS table, indexdef AS line FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2`)
  const snapshot: CatalogSnapshot = { tables: {} }
  const entry = (table: string) => (snapshot.tables[table] ??= { columns: [], constraints: [], indexes: [] })
  for (const row of columns.rows) entry(row.table).columns.push(row.line)
  for (const row of constraints.rows) entry(row.table).constraints.push(normaliseCheck(row.line))
  for (const row of indexes.rows) entry(row.table).indexes.push(row.line)
  for (const table of bookkeeping) Reflect.deleteProperty(snapshot.tables, table)
  return snapshot
}

/**
 * PostgreSQL deparses `status IN ('a', 'b')` on a varchar differently once it has been through
 * pg_dump and back; the casts and parentheses differ, the meaning does not.
 */
function normaliseCheck (line: string): string {
  if (!/ CHECK /.test(line)) return line
  return line.replace(/::(character varying|text)(\[\])?/g, '').replace(/[()]/g, '').replace(/\s+/g, ' ')
}
