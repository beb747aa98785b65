import { diffSchemas, type SchemaDifference } from './diff.js'
import type { CheckDefinition, ColumnDefinition, ForeignKeyDefinition, IndexDefinition, SchemaDefinition, TableDefinition } from './schema.js'
import {
  addConstraint, addConstraintOnline, checkClause, columnSpec, createIndexConcurrently, createTable, dropConstraint, dropIndexConcurrently,
  foreignKeyClause, ident, indexStatement, literal, primaryKeyClause, setNotNullOnline, tableConstraints, tableIndexes,
} from './sql-text.js'

/** One revision's worth of statements. */
export interface GeneratedPhase {
  /** false for the online kind: CONCURRENTLY, and NOT VALID then VALIDATE in transactions of their own. */
  readonly transactional: boolean
  /** It drops a table or a column: the contract phase of expand/contract. */
  readonly breaking: boolean
  readonly up: string[]
  readonly down: string[]
  /** What a reviewer must read before committing: the data it drops, a column that may have been renamed. */
  readonly notes: string[]
}

export interface GeneratedMigration {
  /** The transactional phase first; none when the schemas are equal. */
  readonly phases: GeneratedPhase[]
  /** Differences no statement is written for. */
  readonly unsupported: string[]
}

/**
 * Where a change runs, and when: `up` runs changes by ascending rank, `down` runs their inverses
 * in the opposite order, so a table comes before the keys that name it and drops come back in reverse.
 * Ranks below `online` are transactional.
 */
const rank = {
  dropDependentKey: 1,
  dropDependentCheck: 2,
  dropDependentIndex: 3,
  dropTables: 4,
  columns: 5,
  createTables: 6,
  newTableConstraints: 7,
  online: 10,
  dropKey: 10,
  dropCheck: 11,
  dropPrimaryKey: 12,
  dropIndex: 13,
  dropNotNull: 14,
  setNotNull: 15,
  createIndex: 16,
  createPrimaryKey: 17,
  createCheck: 18,
  createKey: 19,
} as const

interface Change {
  readonly rank: number
  readonly up: string[]
  readonly down: string[]
}

/** The statements that turn `from` into `to` (up) and back (down). Pure. */
export function generateMigration (from: SchemaDefinition, to: SchemaDefinition): GeneratedMigration {
  const differences = diffSchemas(from, to)
  const context = contextOf(differences)
  const unsupported: string[] = []
  const changes: Change[] = []
  for (const difference of differences) {
    const invalid = invalidIndex(difference)
    if (invalid !== null) {
      unsupported.push(`index ${invalid.name} on ${difference.table} is INVALID (a failed CREATE INDEX CONCURRENTLY left it): drop or rebuild it first`)
      continue
    }
    changes.push(...changesOf(difference, context))
  }
  changes.push(...columnAlterations(differences))
  const dropped = [...context.droppedTables.values()]
  if (dropped.length > 0) changes.push(dropTables(dropped))

  const sorted = changes.map((change, index) => ({ change, index })).sort((a, b) => a.change.rank - b.change.rank || a.index - b.index).map(({ change }) => change)
  const transactional = sorted.filter((change) => change.rank < rank.online)
  const online = sorted.filter((change) => change.rank >= rank.online)
  // Drops are transactional changes: the notes and the breaking mark go with them.
  const notes = notesOf(differences, context)
  const breaking = context.droppedTables.size > 0 || context.droppedColumns.size > 0
  const phases: GeneratedPhase[] = []
  if (transactional.length > 0) phases.push(phaseOf(transactional, true, notes, breaking))
  if (online.length > 0) phases.push(phaseOf(online, false, [], false))
  return { phases, unsupported }
}

/** Every statement of a migration in the order it runs: what `GET /schema/drift` shows. */
export function statementsOf (migration: GeneratedMigration): { up: string[], down: string[] } {
  return {
    up: migration.phases.flatMap((phase) => phase.up),
    down: [...migration.phases].reverse().flatMap((phase) => phase.down),
  }
}

function phaseOf (changes: readonly Change[], transactional: boolean, notes: string[], breaking: boolean): GeneratedPhase {
  return {
    transactional,
    breaking,
    up: changes.flatMap((change) => change.up),
    down: [...changes].reverse().flatMap((change) => change.down),
    notes,
  }
}

interface Context {
  readonly droppedTables: ReadonlyMap<string, TableDefinition>
  /** Per table, the columns that go away. */
  readonly droppedColumns: ReadonlyMap<string, ReadonlySet<string>>
}

function contextOf (differences: readonly SchemaDifference[]): Context {
  const droppedTables = new Map<string, TableDefinition>()
  const droppedColumns = new Map<string, Set<string>>()
  for (const difference of differences) {
    if (difference.kind !== 'missing') continue
    if (difference.object === 'table') droppedTables.set(difference.table, difference.expected as TableDefinition)
    if (difference.object === 'column') droppedColumns.set(difference.table, (droppedColumns.get(difference.table) ?? new Set()).add(difference.name))
  }
  return { droppedTables, droppedColumns }
}

function changesOf (difference: SchemaDifference, context: Context): Change[] {
  const { table } = difference
  switch (difference.object) {
    case 'table':
      return difference.kind === 'extra' ? createTables(difference.actual as TableDefinition) : []
    case 'column':
      return [difference.kind === 'extra' ? addColumn(table, difference.actual as ColumnDefinition) : dropColumn(table, difference.expected as ColumnDefinition)]
    case 'nullability':
      return [nullability(table, difference.name, difference.actual as boolean)]
    case 'index':
    case 'foreignKey':
    case 'check':
      return [
        ...difference.expected === null ? [] : [removal(difference.object, table, difference.expected as Member, context)],
        ...difference.actual === null ? [] : [addition(difference.object, table, difference.actual as Member)],
      ]
    default:
      return []
  }
}

type Member = IndexDefinition | ForeignKeyDefinition | CheckDefinition

/**
 * An index or constraint that goes. One that names a column or table also going is dropped in
 * the transactional phase, so that `down` builds it again after that column or table is back.
 */
function removal (object: 'index' | 'foreignKey' | 'check', table: string, member: Member, context: Context): Change {
  const dependent = dependsOnDropped(object, table, member, context)
  const undo = addition(object, table, member)
  if (object === 'foreignKey') {
    const key = member as ForeignKeyDefinition
    return dependent
      ? { rank: rank.dropDependentKey, up: [dropConstraint(table, key.name)], down: [addConstraint(table, key.name, foreignKeyClause(key), key.valid)] }
      : { rank: rank.dropKey, up: [dropConstraint(table, key.name)], down: undo.up }
  }
  if (object === 'check') {
    const check = member as CheckDefinition
    return dependent
      ? { rank: rank.dropDependentCheck, up: [dropConstraint(table, check.name)], down: [addConstraint(table, check.name, checkClause(check), check.valid)] }
      : { rank: rank.dropCheck, up: [dropConstraint(table, check.name)], down: undo.up }
  }
  const index = member as IndexDefinition
  if (dependent) {
    return {
      rank: rank.dropDependentIndex,
      up: [...index.primary || index.unique ? [dropConstraint(table, index.name)] : [], `DROP INDEX IF EXISTS ${ident(index.name)}`],
      down: [index.primary ? addConstraint(table, index.name, primaryKeyClause(index), true) : indexStatement(index)],
    }
  }
  return index.primary
    ? { rank: rank.dropPrimaryKey, up: [dropConstraint(table, index.name)], down: undo.up }
    : { rank: rank.dropIndex, up: dropIndexConcurrently(table, index), down: undo.up }
}

/** An index or constraint that comes, on a table both schemas have: the online kind. */
function addition (object: 'index' | 'foreignKey' | 'check', table: string, member: Member): Change {
  if (object === 'foreignKey') {
    const key = member as ForeignKeyDefinition
    return { rank: rank.createKey, up: addConstraintOnline(table, key.name, foreignKeyClause(key), key.valid), down: [dropConstraint(table, key.name)] }
  }
  if (object === 'check') {
    const check = member as CheckDefinition
    return { rank: rank.createCheck, up: addConstraintOnline(table, check.name, checkClause(check), check.valid), down: [dropConstraint(table, check.name)] }
  }
  const index = member as IndexDefinition
  if (index.primary) {
    const attach = `DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ${literal(ident(table))}::regclass AND contype = 'p') THEN
        ALTER TABLE ${ident(table)} ADD CONSTRAINT ${ident(index.name)} PRIMARY KEY USING INDEX ${ident(index.name)};
      END IF;
    END $$`
    return { rank: rank.createPrimaryKey, up: [...createIndexConcurrently(index), attach], down: [dropConstraint(table, index.name)] }
  }
  return { rank: rank.createIndex, up: createIndexConcurrently(index), down: dropIndexConcurrently(table, index) }
}

function dependsOnDropped (object: 'index' | 'foreignKey' | 'check', table: string, member: Member, context: Context): boolean {
  const columns = context.droppedColumns.get(table) ?? new Set<string>()
  if (object === 'foreignKey') {
    const key = member as ForeignKeyDefinition
    const targetColumns = context.droppedColumns.get(key.target.table) ?? new Set<string>()
    return context.droppedTables.has(key.target.table) || key.columns.some((column) => columns.has(column)) ||
      key.target.columns.some((column) => targetColumns.has(column))
  }
  const text = object === 'check' ? (member as CheckDefinition).definition : (member as IndexDefinition).definition
  return [...identifiersOf(text)].some((name) => columns.has(name))
}

function identifiersOf (text: string): Set<string> {
  const names = new Set<string>()
  const withoutLiterals = text.replace(/'(?:[^']|'')*'/g, '')
  for (const match of withoutLiterals.matchAll(/"((?:[^"]|"")+)"|[A-Za-z_][\w$]*/g)) names.add(match[1]?.replace(/""/g, '"') ?? match[0])
  return names
}

function createTables (table: TableDefinition): Change[] {
  return [
    { rank: rank.createTables, up: [createTable(table), ...tableIndexes(table)], down: [`DROP TABLE ${ident(table.name)}`] },
    ...table.checks.some((check) => !check.valid) || table.foreignKeys.length > 0
      ? [{ rank: rank.newTableConstraints, up: tableConstraints(table), down: [...table.foreignKeys, ...table.checks.filter((check) => !check.valid)].map((member) => dropConstraint(table.name, member.name)) }]
      : [],
  ]
}

/** One statement for every table that goes, so foreign keys between them need no order. */
function dropTables (tables: readonly TableDefinition[]): Change {
  return {
    rank: rank.dropTables,
    up: [`DROP TABLE ${tables.map((table) => ident(table.name)).join(', ')}`],
    down: [...tables.flatMap((table) => [createTable(table), ...tableIndexes(table)]), ...tables.flatMap(tableConstraints)],
  }
}

function addColumn (table: string, column: ColumnDefinition): Change {
  return { rank: rank.columns, up: [`ALTER TABLE ${ident(table)} ADD COLUMN ${columnSpec(table, column)}`], down: [`ALTER TABLE ${ident(table)} DROP COLUMN ${ident(column.name)}`] }
}

function dropColumn (table: string, column: ColumnDefinition): Change {
  return { rank: rank.columns, up: [`ALTER TABLE ${ident(table)} DROP COLUMN ${ident(column.name)}`], down: [`ALTER TABLE ${ident(table)} ADD COLUMN ${columnSpec(table, column)}`] }
}

function nullability (table: string, column: string, nullable: boolean): Change {
  const dropNotNull = `ALTER TABLE ${ident(table)} ALTER COLUMN ${ident(column)} DROP NOT NULL`
  return nullable
    ? { rank: rank.dropNotNull, up: [dropNotNull], down: setNotNullOnline(table, column) }
    : { rank: rank.setNotNull, up: setNotNullOnline(table, column), down: [dropNotNull] }
}

/** A column's type and default together: a default the new type cannot take is dropped before the type changes. */
function columnAlterations (differences: readonly SchemaDifference[]): Change[] {
  const byColumn = new Map<string, { table: string, name: string, type?: [string, string], default?: [string | null, string | null] }>()
  for (const difference of differences) {
    if (difference.object !== 'type' && difference.object !== 'default') continue
    const key = JSON.stringify([difference.table, difference.name])
    const entry = byColumn.get(key) ?? { table: difference.table, name: difference.name }
    if (difference.object === 'type') entry.type = [difference.expected as string, difference.actual as string]
    else entry.default = [difference.expected as string | null, difference.actual as string | null]
    byColumn.set(key, entry)
  }
  return [...byColumn.values()].map(({ table, name, type, default: value }) => ({
    rank: rank.columns,
    up: alterColumn(table, name, type?.[1], value?.[0], value?.[1]),
    down: alterColumn(table, name, type?.[0], value?.[1], value?.[0]),
  }))
}

function alterColumn (table: string, column: string, type: string | undefined, fromDefault: string | null | undefined, toDefault: string | null | undefined): string[] {
  const alter = `ALTER TABLE ${ident(table)} ALTER COLUMN ${ident(column)}`
  const defaultChanges = toDefault !== undefined
  return [
    ...defaultChanges && fromDefault !== null && (type !== undefined || toDefault === null) ? [`${alter} DROP DEFAULT`] : [],
    ...type === undefined ? [] : [`${alter} TYPE ${type} USING ${ident(column)}::${type}`],
    ...defaultChanges && toDefault !== null ? [`${alter} SET DEFAULT ${toDefault}`] : [],
  ]
}

function invalidIndex (difference: SchemaDifference): IndexDefinition | null {
  if (difference.object !== 'index' || difference.actual === null) return null
  const index = difference.actual as IndexDefinition
  return index.valid ? null : index
}

function notesOf (differences: readonly SchemaDifference[], context: Context): string[] {
  const notes: string[] = []
  for (const table of context.droppedTables.keys()) notes.push(`drops table ${table} and every row in it; down creates it again, empty`)
  for (const [table, columns] of context.droppedColumns) {
    for (const column of columns) notes.push(`drops column ${table}.${column} and the data in it; down adds it again, empty`)
  }
  const added = differences.filter((difference) => difference.object === 'column' && difference.kind === 'extra')
  for (const difference of differences) {
    if (difference.object !== 'column' || difference.kind !== 'missing') continue
    const gone = difference.expected as ColumnDefinition
    for (const candidate of added) {
      const appeared = candidate.actual as ColumnDefinition
      if (candidate.table !== difference.table || appeared.type !== gone.type) continue
      notes.push(`${difference.table}.${gone.name} vanished and ${difference.table}.${appeared.name} (${gone.type}) appeared: written as drop + add, ` +
        `which loses the data. Was it a rename? Then replace both with ALTER TABLE ${ident(difference.table)} RENAME COLUMN ${ident(gone.name)} TO ${ident(appeared.name)}`)
    }
  }
  return notes
}
