import type { Knex } from 'knex'
import { canonicalCheck, canonicalIndex } from '../../src/catalog/canonical.js'
import { introspectSchema } from '../../src/catalog/introspect.js'
import { applicationSchema, type TableDefinition } from '../../src/catalog/schema.js'

export interface CatalogSnapshot {
  tables: Record<string, {
    columns: string[]
    constraints: string[]
    indexes: string[]
  }>
}

/**
 * The application schema as the service's own introspection reads it, bookkeeping left out, as
 * sorted lines: what a migration must restore exactly. Checks and index definitions are in
 * their canonical forms, so a deparse that differs by PostgreSQL version or by pg_dump is equal.
 */
export async function snapshotCatalog (knex: Knex): Promise<CatalogSnapshot> {
  const { tables } = applicationSchema(await introspectSchema(knex))
  return { tables: Object.fromEntries(tables.map((table) => [table.name, linesOf(table)])) }
}

function linesOf (table: TableDefinition): CatalogSnapshot['tables'][string] {
  return {
    columns: table.columns.map((column) =>
      `${column.name} ${column.type}${column.nullable ? '' : ' not null'}${column.default === null ? '' : ` default ${column.default}`}`).sort(),
    constraints: [
      ...table.indexes.filter((index) => index.primary).map((index) => `${index.name} PRIMARY KEY (${index.columns.join(', ')})`),
      ...table.foreignKeys.map((key) => `${key.name} FOREIGN KEY (${key.columns.join(', ')}) REFERENCES ${key.target.table}(${key.target.columns.join(', ')})` +
        ` ON DELETE ${key.onDelete} ON UPDATE ${key.onUpdate}${key.valid ? '' : ' NOT VALID'}`),
      ...table.checks.map((check) => `${check.name} ${canonicalCheck(check.definition)}`),
    ].sort(),
    indexes: table.indexes.map(canonicalIndex).sort(),
  }
}
