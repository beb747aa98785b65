import type { Knex } from 'knex'
import { ArchiveConflictError, ArchiveNotFoundError } from '../errors.js'
import { tables } from '../store/bookkeeping.js'
import type { ArchiveKind, Destruction } from './destruction.js'

/** Where archived data lives: a schema of its own, out of drift's and autogenerate's sight. */
export const archiveSchema = 'aip_schema_archive'

/** One query on whatever runs the step: the migration session, or a transaction. */
export type Query = (sql: string, bindings?: readonly unknown[]) => Promise<{ rows: any[], rowCount: number | null }>

type Answer = Promise<{ rows: any[], rowCount: number | null }>

/** A statement without bindings is sent as written: a revision's `?` (a jsonb operator) is not a placeholder. */
function raw (db: Knex | Knex.Transaction, sql: string, bindings: readonly unknown[] | undefined): Knex.Raw {
  return bindings === undefined ? db.raw(sql) : db.raw(sql, [...bindings] as Knex.RawBinding[])
}

export function onSession (knex: Knex, session: unknown): Query {
  return async (sql, bindings) => raw(knex, sql, bindings).connection(session) as unknown as Answer
}

export function onTransaction (db: Knex | Knex.Transaction): Query {
  return async (sql, bindings) => raw(db, sql, bindings) as unknown as Answer
}

export interface Archive {
  readonly id: number
  readonly operationId: string | null
  readonly revision: string | null
  readonly direction: 'up' | 'down' | null
  readonly kind: ArchiveKind
  readonly schema: string
  readonly table: string
  /** null: whole rows. */
  readonly columns: string[] | null
  readonly keyColumns: string[]
  readonly rows: number
  readonly bytes: number
  readonly createdAt: string
  readonly restoredAt: string | null
  readonly expiresAt: string
}

/** What a step archives: the operation and revision it belongs to, and how long it is kept. */
export interface ArchiveContext {
  readonly operation: string | null
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly retentionDays: number
}

interface LiveTable {
  readonly oid: number
  readonly schema: string
  readonly name: string
  /** Column name → its type as `format_type` writes it. */
  readonly columns: ReadonlyMap<string, string>
  /** Columns of a type the database defines (an enum, a domain, an array of one): a revision may drop that type next. */
  readonly ownTypes: ReadonlySet<string>
  readonly key: readonly string[]
}

/** An archive table's column: the type it had live, and whether the archive holds its text. */
interface ArchivedColumn {
  readonly type: string
  readonly asText: boolean
}

export function quoted (name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function archiveTable (id: number): string {
  return `${quoted(archiveSchema)}.${quoted(`archive_${id}`)}`
}

function qualifiedName (table: { readonly schema: string, readonly name: string }): string {
  return `${quoted(table.schema)}.${quoted(table.name)}`
}

/** The table a name means now, as PostgreSQL resolves it; null when there is none. */
export async function liveTable (query: Query, name: string): Promise<LiveTable | null> {
  const found = (await query(`SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(?) AND c.relkind IN ('r', 'p')`, [name])).rows[0] as { oid: number, schema: string, name: string } | undefined
  if (found === undefined) return null
  return liveTableByOid(query, found)
}

async function liveTableByOid (query: Query, found: { oid: number, schema: string, name: string }): Promise<LiveTable> {
  const columns = (await query(`SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type,
      ty.typnamespace <> 'pg_catalog'::regnamespace OR coalesce(el.typnamespace <> 'pg_catalog'::regnamespace, false) AS own_type
    FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid LEFT JOIN pg_type el ON el.oid = nullif(ty.typelem, 0)
    WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [found.oid])).rows as Array<{ attname: string, type: string, own_type: boolean }>
  const key = (await query(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = ? AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`, [found.oid])).rows as Array<{ attname: string }>
  return {
    ...found,
    columns: new Map(columns.map((column) => [column.attname, column.type])),
    ownTypes: new Set(columns.filter((column) => column.own_type).map((column) => column.attname)),
    key: key.map((column) => column.attname),
  }
}

async function liveTableNamed (query: Query, schema: string, name: string): Promise<LiveTable | null> {
  const found = (await query(`SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')`, [schema, name])).rows[0] as { oid: number, schema: string, name: string } | undefined
  return found === undefined ? null : liveTableByOid(query, found)
}

/**
 * Copies what `destruction` is about to destroy into an archive table and records it: the key
 * and the destroyed columns, or whole rows (a table dropped or emptied, rows deleted, or a table
 * without a primary key, whose columns could not be put back by key). Nothing to archive (the
 * table or the columns are gone already: `IF EXISTS`) is no archive. The condition of a
 * `DELETE` or `UPDATE` is the revision's own frozen SQL, never a caller's string.
 */
export async function takeArchive (query: Query, destruction: Destruction, context: ArchiveContext, options: { readonly keepEmpty: boolean } = { keepEmpty: true }): Promise<Archive | null> {
  const table = await liveTable(query, destruction.table)
  if (table === null) return null
  const destroyed = destruction.columns?.filter((column) => table.columns.has(column)) ?? null
  if (destroyed !== null && destroyed.length === 0) return null
  const byKey = destroyed !== null && table.key.length > 0
  const columns = byKey ? destroyed : null
  const { rows } = await query(`INSERT INTO ${tables.archives} (operation, revision, direction, kind, schema_name, table_name, columns, key_columns, expires_at)
    VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, now() + make_interval(days => ?)) RETURNING id`,
  [context.operation, context.revision, context.direction, destruction.kind, table.schema, table.name, columns === null ? null : JSON.stringify(columns), JSON.stringify(table.key), context.retentionDays])
  const id = Number((rows[0] as { id: string }).id)
  const alias = destruction.alias === null ? '' : ` AS ${quoted(destruction.alias)}`
  const names = columns === null ? [...table.columns.keys()] : [...new Set([...table.key, ...columns])]
  // As text, with the type in the column's comment: an archive column of the enum would keep the revision's DROP TYPE from running.
  const selected = names.map((column) => table.ownTypes.has(column) ? `${quoted(column)}::text AS ${quoted(column)}` : quoted(column)).join(', ')
  const where = destruction.where === null ? '' : ` WHERE ${destruction.where}`
  await query(`CREATE SCHEMA IF NOT EXISTS ${quoted(archiveSchema)}`)
  const created = await query(`CREATE TABLE ${archiveTable(id)} AS SELECT ${selected} FROM ${qualifiedName(table)}${alias}${where}`)
  if (!options.keepEmpty && (created.rowCount ?? 0) === 0) {
    await query(`DROP TABLE ${archiveTable(id)}`)
    await query(`DELETE FROM ${tables.archives} WHERE id = ?`, [id])
    return null
  }
  for (const column of names.filter((name) => table.ownTypes.has(name))) {
    await query(`COMMENT ON COLUMN ${archiveTable(id)}.${quoted(column)} IS ${literal(table.columns.get(column) ?? 'text')}`)
  }
  const copied = (await query(`UPDATE ${tables.archives} SET rows = ?, bytes = pg_total_relation_size(?::regclass) WHERE id = ? RETURNING *`,
    [created.rowCount ?? 0, `${quoted(archiveSchema)}.${quoted(`archive_${id}`)}`, id])).rows[0] as ArchiveRow
  return fromRow(copied)
}

/**
 * After a statement re-created a table or added columns: the newest unrestored archives of what
 * it dropped come back by primary key, where every archived column is back with the same type
 * (a column re-added as another type is left for a person: `restore` with `into`).
 */
export async function restoreRecreated (query: Query, name: string, recreated: 'table' | 'columns'): Promise<Archive[]> {
  const table = await liveTable(query, name)
  if (table === null) return []
  const kind: ArchiveKind = recreated === 'table' ? 'drop-table' : 'drop-column'
  const candidates = (await query(`SELECT * FROM ${tables.archives} WHERE schema_name = ? AND table_name = ? AND kind = ?
    AND restored_at IS NULL AND expires_at > now() ORDER BY id DESC`, [table.schema, table.name, kind])).rows as ArchiveRow[]
  const restored: Archive[] = []
  const covered = new Set<string>()
  for (const row of candidates) {
    const archive = fromRow(row)
    const archived = await archivedColumns(query, archive.id)
    const wanted = archive.columns ?? [...archived.keys()]
    if (wanted.some((column) => covered.has(column))) continue
    if (recreated === 'columns' && !wanted.every((column) => table.columns.get(column) === archived.get(column)?.type)) continue
    if (!archive.keyColumns.every((column) => table.columns.has(column))) continue
    await putBack(query, archive, table, archived)
    for (const column of wanted) covered.add(column)
    restored.push(await markRestored(query, archive.id))
    if (recreated === 'table') break
  }
  return restored
}

/** The archived columns and the types they had live: a column held as text names its type in its comment. */
async function archivedColumns (query: Query, id: number): Promise<Map<string, ArchivedColumn>> {
  const { rows } = await query(`SELECT attname, col_description(attrelid, attnum) AS own_type, format_type(atttypid, atttypmod) AS type FROM pg_attribute
    WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [`${quoted(archiveSchema)}.${quoted(`archive_${id}`)}`])
  return new Map((rows as Array<{ attname: string, own_type: string | null, type: string }>)
    .map((column) => [column.attname, { type: column.own_type ?? column.type, asText: column.own_type !== null }]))
}

/** An archive table's column as the live table takes it: one held as text is cast back to its type. */
function fromArchive (column: string, archived: ReadonlyMap<string, ArchivedColumn>): string {
  const held = archived.get(column)
  return held?.asText === true ? `a.${quoted(column)}::${held.type}` : `a.${quoted(column)}`
}

/** A string literal for a utility statement (COMMENT takes no bound parameter); the text is a type name from the catalog. */
function literal (text: string): string {
  return `'${text.replace(/'/g, "''")}'`
}

/**
 * Column archives (dropped, retyped or updated columns) update the live rows by key; whole-row
 * archives insert the rows that are missing, ids as they were (sequences moved past them).
 */
async function putBack (query: Query, archive: Archive, table: LiveTable, archived: ReadonlyMap<string, ArchivedColumn>): Promise<number> {
  const source = archiveTable(archive.id)
  if (archive.columns !== null) {
    // Assignment casts only: a value the live column cannot hold (too long, another type) fails, never truncates.
    const set = archive.columns.map((column) => `${quoted(column)} = ${fromArchive(column, archived)}`).join(', ')
    const on = archive.keyColumns.map((column) => `t.${quoted(column)} = ${fromArchive(column, archived)}`).join(' AND ')
    return (await query(`UPDATE ${qualifiedName(table)} AS t SET ${set} FROM ${source} AS a WHERE ${on}`)).rowCount ?? 0
  }
  const common = [...archived.keys()].filter((column) => table.columns.has(column))
  const conflict = table.key.length > 0 ? ' ON CONFLICT DO NOTHING' : ''
  const inserted = (await query(`INSERT INTO ${qualifiedName(table)} (${common.map(quoted).join(', ')}) OVERRIDING SYSTEM VALUE
    SELECT ${common.map((column) => fromArchive(column, archived)).join(', ')} FROM ${source} AS a${conflict}`)).rowCount ?? 0
  for (const column of common) {
    const sequence = (await query('SELECT pg_get_serial_sequence(?, ?) AS sequence', [qualifiedName(table), column])).rows[0] as { sequence: string | null }
    if (sequence.sequence !== null) {
      await query(`SELECT setval(?::regclass, greatest((SELECT max(${quoted(column)}) FROM ${qualifiedName(table)}), 1))`, [sequence.sequence])
    }
  }
  return inserted
}

async function markRestored (query: Query, id: number): Promise<Archive> {
  const { rows } = await query(`UPDATE ${tables.archives} SET restored_at = clock_timestamp() WHERE id = ? RETURNING *`, [id])
  return fromRow(rows[0] as ArchiveRow)
}

interface ArchiveRow {
  id: string
  operation: string | null
  revision: string | null
  direction: 'up' | 'down' | null
  kind: ArchiveKind
  schema_name: string
  table_name: string
  columns: string[] | null
  key_columns: string[]
  rows: string
  bytes: string
  created_at: Date
  restored_at: Date | null
  expires_at: Date
}

function fromRow (row: ArchiveRow): Archive {
  return {
    id: Number(row.id),
    operationId: row.operation,
    revision: row.revision,
    direction: row.direction,
    kind: row.kind,
    schema: row.schema_name,
    table: row.table_name,
    columns: row.columns,
    keyColumns: row.key_columns,
    rows: Number(row.rows),
    bytes: Number(row.bytes),
    createdAt: new Date(row.created_at).toISOString(),
    restoredAt: row.restored_at === null ? null : new Date(row.restored_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
  }
}

async function hasArchives (knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: Array<{ present: boolean }> }>('SELECT to_regclass(?) IS NOT NULL AS present', [tables.archives])
  return rows[0]?.present === true
}

/** Newest first. */
export async function listArchives (knex: Knex): Promise<Archive[]> {
  if (!await hasArchives(knex)) return []
  const { rows } = await knex.raw<{ rows: ArchiveRow[] }>(`SELECT * FROM ${tables.archives} ORDER BY id DESC`)
  return rows.map(fromRow)
}

/** How many archives there are and their bytes, for `/metrics`. */
export async function archiveTotals (knex: Knex): Promise<{ count: number, bytes: number }> {
  if (!await hasArchives(knex)) return { count: 0, bytes: 0 }
  const { rows } = await knex.raw<{ rows: Array<{ count: string, bytes: string }> }>(`SELECT count(*) AS count, coalesce(sum(bytes), 0) AS bytes FROM ${tables.archives}`)
  return { count: Number(rows[0]?.count ?? 0), bytes: Number(rows[0]?.bytes ?? 0) }
}

async function archiveById (query: Query, id: number): Promise<Archive> {
  const row = (await query(`SELECT * FROM ${tables.archives} WHERE id = ? FOR UPDATE`, [id])).rows[0] as ArchiveRow | undefined
  if (row === undefined) throw new ArchiveNotFoundError(id)
  return fromRow(row)
}

/** A table name a person gives for a restore: a plain identifier, quoted when used. */
export const restoreTablePattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Puts an archive back by hand: into the live table it came from, where its key and columns are
 * (ArchiveConflictError when they are not), or into a new table of the given name in the
 * current schema. The archive is kept, marked restored.
 */
export async function restoreArchive (knex: Knex, id: number, into?: string): Promise<number> {
  if (into !== undefined && !restoreTablePattern.test(into)) throw new ArchiveConflictError(id, `'${into}' is not a plain table name`)
  if (!await hasArchives(knex)) throw new ArchiveNotFoundError(id)
  return knex.transaction(async (trx) => {
    const query = onTransaction(trx)
    const archive = await archiveById(query, id)
    if (into !== undefined) {
      const exists = (await query('SELECT to_regclass(?) IS NOT NULL AS present', [quoted(into)])).rows[0] as { present: boolean }
      if (exists.present) throw new ArchiveConflictError(id, `table ${into} exists already; name a new table`)
      const created = await query(`CREATE TABLE ${quoted(into)} AS SELECT * FROM ${archiveTable(id)}`)
      await markRestored(query, id)
      return created.rowCount ?? 0
    }
    const table = await liveTableNamed(query, archive.schema, archive.table)
    if (table === null) throw new ArchiveConflictError(id, `table ${archive.schema}.${archive.table} does not exist; restore into a new table`)
    const archived = await archivedColumns(query, id)
    const needed = archive.columns === null ? archive.keyColumns : [...archive.keyColumns, ...archive.columns]
    const missing = needed.filter((column) => !table.columns.has(column))
    if (missing.length > 0) throw new ArchiveConflictError(id, `table ${archive.table} lacks column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}; restore into a new table`)
    let restoredRows: number
    try {
      restoredRows = await putBack(query, archive, table, archived)
    } catch (error) {
      throw new ArchiveConflictError(id, `table ${archive.table} cannot hold the archived values (${(error as Error).message}); restore into a new table`)
    }
    await markRestored(query, id)
    return restoredRows
  })
}

export async function deleteArchive (knex: Knex, id: number): Promise<void> {
  if (!await hasArchives(knex)) throw new ArchiveNotFoundError(id)
  await knex.transaction(async (trx) => {
    const query = onTransaction(trx)
    await archiveById(query, id)
    await query(`DROP TABLE IF EXISTS ${archiveTable(id)}`)
    await query(`DELETE FROM ${tables.archives} WHERE id = ?`, [id])
  })
}

/** Drops the archives past their retention; how many. */
export async function purgeExpiredArchives (knex: Knex): Promise<number> {
  if (!await hasArchives(knex)) return 0
  return knex.transaction(async (trx) => {
    const query = onTransaction(trx)
    const { rows } = await query(`DELETE FROM ${tables.archives} WHERE expires_at <= now() RETURNING id`)
    for (const row of rows as Array<{ id: string }>) await query(`DROP TABLE IF EXISTS ${archiveTable(Number(row.id))}`)
    return rows.length
  })
}
