import type { Knex } from 'knex'
import { tables as bookkeepingTables } from '../migrator/index.js'
import type { CheckDefinition, ColumnDefinition, ForeignKeyDefinition, IndexDefinition, LiveSchema, ReferentialAction } from './schema.js'

const bookkeeping: ReadonlySet<string> = new Set(Object.values(bookkeepingTables))

function action (code: string): string {
  return `CASE ${code} WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END`
}

// Every query reads the connection's current schema, where unqualified DDL puts its tables.
const schemaOid = '(SELECT oid FROM pg_namespace WHERE nspname = current_schema())'

const tablesQuery = `
  SELECT c.relname AS table
    FROM pg_class c
   WHERE c.relnamespace = ${schemaOid} AND c.relkind IN ('r', 'p')
   ORDER BY c.relname COLLATE "C"`

const columnsQuery = `
  SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
         NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
   WHERE c.relnamespace = ${schemaOid} AND c.relkind IN ('r', 'p')
   ORDER BY c.relname COLLATE "C", a.attnum`

const indexesQuery = `
  SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
         am.amname AS method, x.indisvalid AS valid,
         ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) AS columns,
         pg_get_expr(x.indpred, x.indrelid) AS predicate,
         pg_get_indexdef(x.indexrelid) AS definition
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_am am ON am.oid = i.relam
   WHERE t.relnamespace = ${schemaOid} AND t.relkind IN ('r', 'p')
   ORDER BY t.relname COLLATE "C", i.relname COLLATE "C"`

// contype 'c' and 'f' only: PostgreSQL 18 also lists NOT NULL as constraints, already in the columns.
const constraintsQuery = `
  SELECT t.relname AS table, k.conname AS name, k.contype AS kind, k.convalidated AS valid,
         pg_get_constraintdef(k.oid) AS definition,
         ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS key(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.attnum ORDER BY key.n) AS columns,
         CASE WHEN r.relnamespace = t.relnamespace THEN r.relname::text ELSE coalesce(rn.nspname || '.' || r.relname, '') END AS target_table,
         ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS key(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = key.attnum ORDER BY key.n) AS target_columns,
         ${action('k.confdeltype')} AS on_delete, ${action('k.confupdtype')} AS on_update
    FROM pg_constraint k
    JOIN pg_class t ON t.oid = k.conrelid
    LEFT JOIN pg_class r ON r.oid = k.confrelid
    LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
   WHERE t.relnamespace = ${schemaOid} AND t.relkind IN ('r', 'p') AND k.contype IN ('c', 'f')
   ORDER BY t.relname COLLATE "C", k.conname COLLATE "C"`

interface ConstraintRow {
  table: string
  name: string
  kind: 'c' | 'f'
  valid: boolean
  definition: string
  columns: string[]
  target_table: string
  target_columns: string[]
  on_delete: ReferentialAction
  on_update: ReferentialAction
}

/**
 * The live schema from pg_catalog: read-only, no lock beyond what any query takes, one
 * repeatable-read transaction so the reads describe one moment.
 */
export async function introspectSchema (knex: Knex): Promise<LiveSchema> {
  return knex.transaction(async (trx) => {
    const schema = (await trx.raw<{ rows: Array<{ schema: string | null }> }>('SELECT current_schema() AS schema')).rows[0]?.schema ?? ''
    const tables = (await trx.raw<{ rows: Array<{ table: string }> }>(tablesQuery)).rows
    const columns = (await trx.raw<{ rows: Array<ColumnDefinition & { table: string }> }>(columnsQuery)).rows
    const indexes = (await trx.raw<{ rows: Array<IndexDefinition & { table: string }> }>(indexesQuery)).rows
    const constraints = (await trx.raw<{ rows: ConstraintRow[] }>(constraintsQuery)).rows
    return {
      schema,
      tables: tables.map(({ table }) => ({
        name: table,
        bookkeeping: bookkeeping.has(table),
        columns: columns.filter((row) => row.table === table).map(toColumn),
        indexes: indexes.filter((row) => row.table === table).map(toIndex),
        foreignKeys: constraints.filter((row) => row.table === table && row.kind === 'f').map(toForeignKey),
        checks: constraints.filter((row) => row.table === table && row.kind === 'c').map(toCheck),
      })),
    }
  }, { isolationLevel: 'repeatable read', readOnly: true })
}

function toColumn (row: ColumnDefinition): ColumnDefinition {
  return { name: row.name, type: row.type, nullable: row.nullable, default: row.default }
}

function toIndex (row: IndexDefinition): IndexDefinition {
  return {
    name: row.name,
    columns: row.columns,
    unique: row.unique,
    primary: row.primary,
    method: row.method,
    predicate: row.predicate,
    valid: row.valid,
    definition: row.definition,
  }
}

function toForeignKey (row: ConstraintRow): ForeignKeyDefinition {
  return {
    name: row.name,
    columns: row.columns,
    target: { table: row.target_table, columns: row.target_columns },
    onDelete: row.on_delete,
    onUpdate: row.on_update,
    valid: row.valid,
  }
}

function toCheck (row: ConstraintRow): CheckDefinition {
  return { name: row.name, definition: row.definition, valid: row.valid }
}
