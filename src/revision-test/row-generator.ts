import { createHash } from 'node:crypto'
import type { ColumnDefinition, ForeignKeyDefinition, TableDefinition } from '../catalog/schema.js'

/**
 * Rows made from a table's definition alone, as production would have them: every NOT NULL
 * column filled, nullable ones NULL on every other row (so a later `SET NOT NULL` meets a NULL),
 * values unique per table, column, fill and row (so unique indexes hold), enum-like CHECK lists
 * and simple bounds obeyed, enum labels used, foreign keys pointing at rows of the parent filled just before. Pure.
 */
export type Row = Record<string, unknown>

export interface GeneratedTable {
  readonly table: string
  readonly rows: Row[]
}

/** The rows of the parents inserted in this fill: what foreign keys may point at. */
export type ParentRows = ReadonlyMap<string, readonly Row[]>

/** The labels of each enum type, by its name as `format_type` prints it in a column's type. */
export type EnumLabels = ReadonlyMap<string, readonly string[]>

/** Why a table gets no rows this fill; the rest still do. */
export interface SkippedTable {
  readonly table: string
  readonly reason: string
}

/** Tables with their parents first; a table in a cycle of NOT NULL foreign keys comes last. */
export function insertOrder (tables: readonly TableDefinition[]): TableDefinition[] {
  const byName = new Map(tables.map((table) => [table.name, table]))
  const placed = new Set<string>()
  const ordered: TableDefinition[] = []
  const pending = [...tables].sort((a, b) => a.name.localeCompare(b.name))
  while (pending.length > 0) {
    const ready = pending.findIndex((table) => table.foreignKeys.every((key) =>
      key.target.table === table.name || !byName.has(key.target.table) || placed.has(key.target.table)))
    const [next] = pending.splice(ready === -1 ? 0 : ready, 1) as [TableDefinition]
    placed.add(next.name)
    ordered.push(next)
  }
  return ordered
}

/**
 * `count` rows for `table`; `fill` numbers the fill (each fill's values differ from every other's),
 * `parents` holds what the tables before it got. A skipped table is said why.
 */
export function generateRows (table: TableDefinition, fill: number, count: number, parents: ParentRows, enums: EnumLabels = new Map()): GeneratedTable | SkippedTable {
  const keyed = new Map<string, ForeignKeyDefinition>()
  for (const key of table.foreignKeys) for (const column of key.columns) keyed.set(column, key)
  const rows: Row[] = []
  for (let index = 0; index < count; index++) {
    const row: Row = {}
    for (const column of table.columns) {
      const key = keyed.get(column.name)
      if (key !== undefined) {
        const parentRows = key.target.table === table.name ? [] : parents.get(key.target.table) ?? []
        const parent = parentRows[index % Math.max(parentRows.length, 1)]
        if (parent === undefined) {
          if (!column.nullable) return { table: table.name, reason: `no row of ${key.target.table} to reference from ${column.name}` }
          row[column.name] = null
          continue
        }
        row[column.name] = parent[key.target.columns[key.columns.indexOf(column.name)] as string]
        continue
      }
      if (generatedByTheDatabase(column)) continue
      if (index % 2 === 1 && (column.nullable || column.default !== null)) {
        // The database's own default, or NULL: what rows written by another release look like.
        if (column.nullable && column.default === null) row[column.name] = null
        continue
      }
      const checked = constraintsOn(table, column.name)
      const labels = enums.get(column.type)
      const value = valueFor(column, checked.allowed === null && labels !== undefined ? { ...checked, allowed: labels } : checked, { table: table.name, fill, index })
      if (value === undefined) {
        if (!column.nullable && column.default === null) return { table: table.name, reason: `no value can be made for ${column.name} of type ${column.type}` }
        continue
      }
      row[column.name] = value
    }
    rows.push(row)
  }
  return { table: table.name, rows }
}

function generatedByTheDatabase (column: ColumnDefinition): boolean {
  return column.default !== null && /^nextval\(/.test(column.default)
}

/** What a column's CHECK constraints allow, as far as they can be read. */
export interface ColumnConstraints {
  /** `col IN (...)`, deparsed as `col = ANY (ARRAY[...])`. */
  readonly allowed: readonly string[] | null
  readonly min: number | null
  readonly max: number | null
}

const literal = /'((?:[^']|'')*)'/g

export function constraintsOn (table: TableDefinition, column: string): ColumnConstraints {
  let allowed: string[] | null = null
  let min: number | null = null
  let max: number | null = null
  const name = `"?${column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?`
  for (const { definition } of table.checks) {
    const list = new RegExp(`\\(${name}\\)(?:::[\\w ]+)? = ANY \\(\\(?ARRAY\\[([^\\]]*)\\]`).exec(definition) ??
      new RegExp(`(?:^|[ (])${name}(?:::[\\w ]+)? = ANY \\(\\(?ARRAY\\[([^\\]]*)\\]`).exec(definition)
    if (list !== null) allowed = [...(list[1] as string).matchAll(literal)].map((match) => (match[1] as string).replaceAll("''", "'"))
    for (const bound of definition.matchAll(new RegExp(`(?:^|[ (])${name}\\)? (>=|>|<=|<) \\(?(-?\\d+(?:\\.\\d+)?)`, 'g'))) {
      const value = Number(bound[2])
      if (bound[1] === '>=') min = value
      if (bound[1] === '>') min = value + 1
      if (bound[1] === '<=') max = value
      if (bound[1] === '<') max = value - 1
    }
  }
  return { allowed, min, max }
}

interface Place { readonly table: string, readonly fill: number, readonly index: number }

const baseTime = Date.UTC(2024, 0, 1)

/** A value of the column's type for one row; undefined when the type is not one this knows. */
export function valueFor (column: ColumnDefinition, constraints: ColumnConstraints, place: Place): unknown {
  const serial = place.fill * 100 + place.index + 1
  const tag = `${place.table}.${column.name}.${place.fill}.${place.index}`
  if (constraints.allowed !== null && constraints.allowed.length > 0) return constraints.allowed[serial % constraints.allowed.length]
  const type = column.type
  if (type.endsWith('[]')) {
    const element = valueFor({ ...column, type: type.slice(0, -2) }, { allowed: null, min: null, max: null }, place)
    return element === undefined || typeof element === 'object' ? undefined : [element]
  }
  // smallint tops out at 32767; past that, values repeat rather than overflow.
  if (type === 'smallint') return bounded(serial % 32_000, constraints)
  if (type === 'integer' || type === 'bigint') return bounded(serial, constraints)
  const numeric = /^numeric(?:\((\d+),(\d+)\))?$/.exec(type)
  if (numeric !== null) {
    const digits = numeric[1] === undefined ? 9 : Number(numeric[1]) - Number(numeric[2])
    return bounded(serial % 10 ** Math.min(digits, 9), constraints)
  }
  if (type === 'real' || type === 'double precision') return bounded(serial, constraints) + 0.5
  if (type === 'boolean') return place.index % 2 === 0
  if (type === 'uuid') return uuidOf(tag)
  if (type === 'jsonb' || type === 'json') return JSON.stringify({ generated: true, fill: place.fill, row: place.index })
  if (type === 'bytea') return Buffer.from(tag)
  if (type.startsWith('timestamp')) return new Date(baseTime + serial * 60_000).toISOString()
  if (type === 'date') return new Date(baseTime + serial * 86_400_000).toISOString().slice(0, 10)
  if (type.startsWith('time')) return `${String(place.index % 24).padStart(2, '0')}:00:00`
  if (type === 'interval') return `${serial} minutes`
  if (type === 'inet' || type === 'cidr') return `10.${place.fill % 256}.${place.index % 256}.1`
  const text = /^(?:character varying|character|text|citext)(?:\((\d+)\))?$/.exec(type)
  if (text !== null) return textOf(column.name, serial, tag, text[1] === undefined ? null : Number(text[1]))
  return undefined
}

function bounded (value: number, { min, max }: ColumnConstraints): number {
  const low = min ?? 0
  if (max === null) return low + value
  return low + value % Math.max(max - low + 1, 1)
}

/** Readable where the length allows, and unique per place either way. */
function textOf (name: string, serial: number, tag: string, length: number | null): string {
  const readable = `${name}-${serial}-${createHash('sha1').update(tag).digest('hex').slice(0, 8)}`
  if (length === null || readable.length <= length) return readable
  return createHash('sha1').update(tag).digest('hex').slice(0, length)
}

function uuidOf (tag: string): string {
  const hex = createHash('sha1').update(tag).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
