import type { CheckDefinition, ColumnDefinition, ForeignKeyDefinition, IndexDefinition, TableDefinition } from './schema.js'

// PostgreSQL's reserved and type/function-name keywords: as names they must be quoted.
const keywords = new Set(('all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate ' +
  'collation column concurrently constraint create cross current_catalog current_date current_role current_schema current_time ' +
  'current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze from full ' +
  'grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit localtime ' +
  'localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references returning right ' +
  'select session_user similar some symmetric system_user table tablesample then to trailing true union unique user using ' +
  'variadic verbose when where window with').split(' '))

/** A name as PostgreSQL's `quote_ident` writes it: bare when it can be. */
export function ident (name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !keywords.has(name) ? name : `"${name.replace(/"/g, '""')}"`
}

/** A referenced table: introspection qualifies one in another schema as `schema.table`. */
export function tableRef (name: string): string {
  return name.split('.').map(ident).join('.')
}

export function literal (text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

const serialTypes: Readonly<Record<string, string>> = { integer: 'serial', bigint: 'bigserial', smallint: 'smallserial' }

/** `name type [DEFAULT …] [NOT NULL]`; a column fed by the sequence `serial` makes is written `serial`, which makes it. */
export function columnSpec (table: string, column: ColumnDefinition): string {
  const serial = serialTypes[column.type]
  if (serial !== undefined && column.default === `nextval(${literal(`${table}_${column.name}_seq`)}::regclass)` && !column.nullable) {
    return `${ident(column.name)} ${serial}`
  }
  return `${ident(column.name)} ${column.type}${column.nullable ? '' : ' NOT NULL'}${column.default === null ? '' : ` DEFAULT ${column.default}`}`
}

const qualifier = /( ON (?:ONLY )?)(?:[\w$]+|"(?:[^"]|"")+")\./

/** `pg_get_indexdef` without the schema qualifier, so the revision runs in whichever schema it is given. */
export function indexStatement (index: IndexDefinition): string {
  return index.definition.replace(qualifier, '$1')
}

/** Built without blocking writes; an INVALID index a failed build left is dropped first, so the pair can run again. */
export function createIndexConcurrently (index: IndexDefinition): string[] {
  return [
    `DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${literal(ident(index.name))}) AND NOT indisvalid) THEN
        DROP INDEX ${ident(index.name)};
      END IF;
    END $$`,
    indexStatement(index).replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX CONCURRENTLY IF NOT EXISTS '),
  ]
}

export function dropIndexConcurrently (table: string, index: IndexDefinition): string[] {
  // A unique index may back a UNIQUE constraint, which DROP INDEX refuses to drop.
  return [
    ...index.unique ? [dropConstraint(table, index.name)] : [],
    `DROP INDEX CONCURRENTLY IF EXISTS ${ident(index.name)}`,
  ]
}

export function foreignKeyClause (key: ForeignKeyDefinition): string {
  const actions = [['DELETE', key.onDelete], ['UPDATE', key.onUpdate]].filter(([, action]) => action !== 'NO ACTION')
  return `FOREIGN KEY (${key.columns.map(ident).join(', ')}) REFERENCES ${tableRef(key.target.table)} (${key.target.columns.map(ident).join(', ')})` +
    actions.map(([event, action]) => ` ON ${event} ${action}`).join('')
}

/** `pg_get_constraintdef` of a check, without the NOT VALID it carries until validated. */
export function checkClause (check: CheckDefinition): string {
  return check.definition.replace(/ NOT VALID$/, '')
}

export function primaryKeyClause (index: IndexDefinition): string {
  return `PRIMARY KEY (${index.columns.join(', ')})`
}

/** Added as a catalog change only, then validated under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on; re-runnable. */
export function addConstraintOnline (table: string, name: string, clause: string, validate: boolean): string[] {
  return [
    `DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ${literal(ident(table))}::regclass AND conname = ${literal(name)}) THEN
        ALTER TABLE ${ident(table)} ADD CONSTRAINT ${ident(name)} ${clause} NOT VALID;
      END IF;
    END $$`,
    ...validate ? [`ALTER TABLE ${ident(table)} VALIDATE CONSTRAINT ${ident(name)}`] : [],
  ]
}

export function addConstraint (table: string, name: string, clause: string, valid: boolean): string {
  return `ALTER TABLE ${ident(table)} ADD CONSTRAINT ${ident(name)} ${clause}${valid ? '' : ' NOT VALID'}`
}

export function dropConstraint (table: string, name: string): string {
  return `ALTER TABLE ${ident(table)} DROP CONSTRAINT IF EXISTS ${ident(name)}`
}

/**
 * SET NOT NULL scans the table under ACCESS EXCLUSIVE unless a validated CHECK already proves
 * it; the check is validated without blocking writes, then dropped once it has served.
 */
export function setNotNullOnline (table: string, column: string): string[] {
  const check = `${table}_${column}_not_null`.slice(0, 63)
  return [
    ...addConstraintOnline(table, check, `CHECK (${ident(column)} IS NOT NULL)`, true),
    `ALTER TABLE ${ident(table)} ALTER COLUMN ${ident(column)} SET NOT NULL`,
    dropConstraint(table, check),
  ]
}

export function createTable (table: TableDefinition): string {
  const primary = table.indexes.find((index) => index.primary)
  const lines = [
    ...table.columns.map((column) => columnSpec(table.name, column)),
    ...primary === undefined ? [] : [`CONSTRAINT ${ident(primary.name)} ${primaryKeyClause(primary)}`],
    ...table.checks.filter((check) => check.valid).map((check) => `CONSTRAINT ${ident(check.name)} ${checkClause(check)}`),
  ]
  return `CREATE TABLE ${ident(table.name)} (\n      ${lines.join(',\n      ')}\n    )`
}

/** What follows a table's CREATE: its other indexes, then what only ALTER TABLE can add. */
export function tableIndexes (table: TableDefinition): string[] {
  return table.indexes.filter((index) => !index.primary).map(indexStatement)
}

export function tableConstraints (table: TableDefinition): string[] {
  return [
    ...table.checks.filter((check) => !check.valid).map((check) => addConstraint(table.name, check.name, checkClause(check), false)),
    ...table.foreignKeys.map((key) => addConstraint(table.name, key.name, foreignKeyClause(key), key.valid)),
  ]
}
