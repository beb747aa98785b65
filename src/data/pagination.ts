import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Knex } from 'knex'
import { InvalidCursorError } from './errors.js'

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface PageRequest {
  limit: number
  cursor?: string
}

const uuid = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

/** Where a newest-first list stopped: the last row's creation time and id. */
const CreatedAtKeySchema = Type.Object({
  createdAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z$' }),
  id: Type.String({ pattern: uuid }),
}, { additionalProperties: false })

/** Where a list of preprocessing steps stopped: they run per dataset in `order`. */
const StepKeySchema = Type.Object({
  datasetId: Type.String({ pattern: uuid }),
  order: Type.Integer({ minimum: -2147483648, maximum: 2147483647 }),
  id: Type.String({ pattern: uuid }),
}, { additionalProperties: false })

type CreatedAtKey = Static<typeof CreatedAtKeySchema>
type StepKey = Static<typeof StepKeySchema>

/** Newest first, after the cursor: every list but the steps'. */
export async function newestFirstPage<T extends { createdAt: string, id: string }> (query: Knex.QueryBuilder, page: PageRequest): Promise<Page<T>> {
  const after = decodeCursor(CreatedAtKeySchema, page.cursor)
  if (after !== null && !isRealInstant(after.createdAt)) throw new InvalidCursorError()
  if (after !== null) query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.createdAt, after.id])
  const rows: T[] = await query.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(page.limit + 1)
  return toPage(rows, page.limit, (row) => ({ createdAt: row.createdAt, id: row.id }))
}

/** Dataset, then `order`, then id: the order the steps run in. */
export async function stepOrderPage<T extends { datasetId: string, order: number, id: string }> (query: Knex.QueryBuilder, page: PageRequest): Promise<Page<T>> {
  const after = decodeCursor(StepKeySchema, page.cursor)
  if (after !== null) query.whereRaw('(dataset_id, "order", id) > (?::uuid, ?::integer, ?::uuid)', [after.datasetId, after.order, after.id])
  const rows: T[] = await query.orderBy([{ column: 'dataset_id' }, { column: 'order' }, { column: 'id' }]).limit(page.limit + 1)
  return toPage(rows, page.limit, (row) => ({ datasetId: row.datasetId, order: row.order, id: row.id }))
}

/** One row more than the page was fetched: its presence is what says a next page exists. */
function toPage<T> (rows: T[], limit: number, keyOf: (row: T) => CreatedAtKey | StepKey): Page<T> {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null }
}

function encodeCursor (key: CreatedAtKey | StepKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/** Only a cursor in the exact form this service issues is accepted: anything else is the client's mistake, never a SQL error. */
function decodeCursor<T extends TSchema> (schema: T, raw: string | undefined): Static<T> | null {
  if (raw === undefined) return null
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError()
  }
  if (!Value.Check(schema, key) || encodeCursor(key as CreatedAtKey | StepKey) !== raw) throw new InvalidCursorError()
  return key
}

/** The pattern lets through 2025-02-30, which PostgreSQL would reject. */
function isRealInstant (value: string): boolean {
  const parsed = new Date(value)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 23) === value.slice(0, 23)
}
