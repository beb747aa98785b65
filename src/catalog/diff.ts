import { canonicalCheck, canonicalIndex } from './canonical.js'
import type { CheckDefinition, ColumnDefinition, ForeignKeyDefinition, IndexDefinition, SchemaDefinition, TableDefinition } from './schema.js'

export type DifferenceKind = 'missing' | 'extra' | 'changed'
export type SchemaObject = 'table' | 'column' | 'type' | 'nullability' | 'default' | 'index' | 'foreignKey' | 'check'

export interface SchemaDifference {
  /** `missing`: in the expected schema, not in the database; `extra`: the other way round. */
  readonly kind: DifferenceKind
  readonly object: SchemaObject
  readonly table: string
  /** The column, index or constraint; the table's own name for a table. */
  readonly name: string
  /** The expected definition or value; null for an extra object. */
  readonly expected: unknown
  /** What the database has; null for a missing object. */
  readonly actual: unknown
  readonly detail: string
}

interface Named { readonly name: string }

const labels = { table: 'table', column: 'column', index: 'index', foreignKey: 'foreign key', check: 'check constraint' } as const

/** Every way `live` differs from `expected`, table by table, in a fixed order. Pure. */
export function diffSchemas (expected: SchemaDefinition, live: SchemaDefinition): SchemaDifference[] {
  return pairs(expected.tables, live.tables).flatMap(([name, want, have]) =>
    presence('table', name, name, want, have) ?? diffTables(want as TableDefinition, have as TableDefinition))
}

function diffTables (expected: TableDefinition, live: TableDefinition): SchemaDifference[] {
  const table = expected.name
  return [
    ...pairs(expected.columns, live.columns).flatMap(([name, want, have]) =>
      presence('column', table, name, want, have) ?? diffColumns(table, want as ColumnDefinition, have as ColumnDefinition)),
    ...members('index', table, expected.indexes, live.indexes, canonicalIndex, describeIndex),
    ...members('foreignKey', table, expected.foreignKeys, live.foreignKeys, foreignKeyKey, describeForeignKey),
    ...members('check', table, expected.checks, live.checks, checkKey, (check) => check.definition),
  ]
}

function diffColumns (table: string, expected: ColumnDefinition, live: ColumnDefinition): SchemaDifference[] {
  const column = `column ${table}.${expected.name}`
  const differences: SchemaDifference[] = []
  if (expected.type !== live.type) {
    differences.push(changed('type', table, expected.name, expected.type, live.type, `${column} has type ${live.type}, expected ${expected.type}`))
  }
  if (expected.nullable !== live.nullable) {
    differences.push(changed('nullability', table, expected.name, expected.nullable, live.nullable,
      `${column} is ${nullability(live.nullable)}, expected ${nullability(expected.nullable)}`))
  }
  if (expected.default !== live.default) {
    differences.push(changed('default', table, expected.name, expected.default, live.default,
      `${column} has default ${live.default ?? 'none'}, expected ${expected.default ?? 'none'}`))
  }
  return differences
}

/** Indexes and constraints: present or not, and when both, equal by `key` or changed as a whole. */
function members<T extends Named> (object: 'index' | 'foreignKey' | 'check', table: string, expected: readonly T[], live: readonly T[],
  key: (member: T) => string, describe: (member: T) => string): SchemaDifference[] {
  return pairs(expected, live).flatMap(([name, want, have]) => {
    const presentOrNot = presence(object, table, name, want, have)
    if (presentOrNot !== null) return presentOrNot
    const [a, b] = [want as T, have as T]
    if (key(a) === key(b)) return []
    return [changed(object, table, name, a, b, `${labels[object]} ${name} on ${table} is ${describe(b)}, expected ${describe(a)}`)]
  })
}

/** The difference when only one side has the object; null when both do. */
function presence<T> (object: keyof typeof labels, table: string, name: string, expected: T | undefined, actual: T | undefined): SchemaDifference[] | null {
  const what = object === 'table' ? `table ${name}` : object === 'column' ? `column ${table}.${name}` : `${labels[object]} ${name} on ${table}`
  if (actual === undefined) return [{ kind: 'missing', object, table, name, expected, actual: null, detail: `${what} is missing` }]
  if (expected === undefined) return [{ kind: 'extra', object, table, name, expected: null, actual, detail: `${what} is not in the expected schema` }]
  return null
}

function changed (object: SchemaObject, table: string, name: string, expected: unknown, actual: unknown, detail: string): SchemaDifference {
  return { kind: 'changed', object, table, name, expected, actual, detail }
}

/** Both sides by name, in code-unit order of the names. */
function pairs<T extends Named> (expected: readonly T[], live: readonly T[]): Array<[string, T | undefined, T | undefined]> {
  const names = [...new Set([...expected, ...live].map((item) => item.name))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return names.map((name) => [name, expected.find((item) => item.name === name), live.find((item) => item.name === name)])
}

function describeIndex (index: IndexDefinition): string {
  return index.valid ? index.definition : `${index.definition} (invalid: a failed CREATE INDEX CONCURRENTLY leaves one)`
}

function foreignKeyKey (key: ForeignKeyDefinition): string {
  return JSON.stringify([key.columns, key.target.table, key.target.columns, key.onDelete, key.onUpdate, key.valid])
}

function describeForeignKey (key: ForeignKeyDefinition): string {
  return `FOREIGN KEY (${key.columns.join(', ')}) REFERENCES ${key.target.table} (${key.target.columns.join(', ')}) ` +
    `ON DELETE ${key.onDelete} ON UPDATE ${key.onUpdate}${key.valid ? '' : ' NOT VALID'}`
}

function checkKey (check: CheckDefinition): string {
  return `${canonicalCheck(check.definition)} ${String(check.valid)}`
}

function nullability (nullable: boolean): string {
  return nullable ? 'nullable' : 'NOT NULL'
}
