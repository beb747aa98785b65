import type { Knex } from 'knex'
import { PatchTooLargeError } from './errors.js'

type JsonObject = Record<string, unknown>

interface Sql {
  text: string
  values: unknown[]
}

/** Past these, PostgreSQL's stack or its 65,535 bind parameters would fail the statement: a 500 for a client's mistake. */
const maxDepth = 32
const maxKeys = 10_000

/**
 * An RFC 7396 merge patch of a jsonb column, as one SQL expression: PostgreSQL applies it to the
 * row it has locked, so two concurrent patches of different keys both survive (a read-modify-write
 * here would lose one). Each level reads its target once, through a subquery alias, so the
 * statement grows with the patch, not with its depth squared; keys and values are bound.
 * A null patch is the caller's (it clears the column).
 */
export function mergePatchExpression (knex: Knex, column: string, patch: JsonObject, field: string): Knex.Raw {
  let keys = 0
  const merge = (target: Sql, object: JsonObject, depth: number): Sql => {
    keys += Object.keys(object).length
    if (depth >= maxDepth || keys > maxKeys) {
      throw new PatchTooLargeError(field, maxDepth, maxKeys)
    }
    const alias = `v${depth}`
    const removed = Object.entries(object).filter(([, value]) => value === null).map(([key]) => key)
    const set = Object.entries(object).filter(([, value]) => value !== null)
    let text = `CASE WHEN jsonb_typeof(${alias}) = 'object' THEN ${alias} ELSE '{}'::jsonb END`
    const values: unknown[] = []
    if (removed.length > 0) {
      text = `(${text} - ARRAY[${removed.map(() => '?::text').join(', ')}])`
      values.push(...removed)
    }
    if (set.length > 0) {
      const rows = set.map(([key, value]) => isObject(value)
        ? merge({ text: `${alias} -> ?::text`, values: [key] }, value, depth + 1)
        : { text: '?::jsonb', values: [JSON.stringify(value)] })
      text = `(${text} || (SELECT jsonb_object_agg(k, v) FROM (VALUES ${rows.map((row) => `(?::text, ${row.text})`).join(', ')}) AS kv(k, v)))`
      set.forEach(([key], index) => values.push(key, ...(rows[index]?.values ?? [])))
    }
    return { text: `(SELECT ${text} FROM (SELECT ${target.text} AS ${alias}) AS s${depth})`, values: [...values, ...target.values] }
  }
  const { text, values } = merge({ text: '??', values: [column] }, patch, 0)
  return knex.raw(text, values as Knex.RawBinding[])
}

function isObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
