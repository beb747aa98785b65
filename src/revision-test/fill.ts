import type { Knex } from 'knex'
import { introspectSchema } from '../catalog/introspect.js'
import { applicationSchema } from '../catalog/schema.js'
import { type EnumLabels, generateRows, insertOrder, type Row } from './row-generator.js'

/** Rows each table gets per fill: enough for a NULL and non-NULL in every nullable column, and a duplicate would show. */
export const rowsPerFill = 3

/**
 * Gives every table of the live schema (bookkeeping left out) `rowsPerFill` new rows, parents
 * first. A table whose rows the database refuses is reported, not fatal: the revision under test
 * has not run yet, so it is the generator's shortfall, and the other tables still get theirs.
 */
export async function fillTables (knex: Knex, fill: number): Promise<string[]> {
  const [{ tables }, enums] = await Promise.all([introspectSchema(knex).then(applicationSchema), enumLabels(knex)])
  const inserted = new Map<string, Row[]>()
  const notes: string[] = []
  for (const table of insertOrder(tables)) {
    const generated = generateRows(table, fill, rowsPerFill, inserted, enums)
    if (!('rows' in generated)) {
      notes.push(`${table.name} (${generated.reason})`)
      continue
    }
    try {
      inserted.set(table.name, await knex(table.name).insert(generated.rows).returning('*') as Row[])
    } catch (error) {
      notes.push(`${table.name} (the database refused them: ${(error as Error).message})`)
    }
  }
  return notes
}

async function enumLabels (knex: Knex): Promise<EnumLabels> {
  const { rows } = await knex.raw<{ rows: Array<{ type: string, labels: string[] }> }>(
    'SELECT format_type(t.oid, NULL) AS type, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.oid')
  return new Map(rows.map((row) => [row.type, row.labels]))
}
