import type { Knex } from 'knex'

/**
 * ISO 8601 in UTC to the microsecond, as PostgreSQL stores it: a keyset cursor made from a row's
 * `createdAt` then finds that exact row again, which a millisecond JavaScript Date would not.
 */
export function isoTimestamp (knex: Knex, column: string, alias: string): Knex.Raw {
  return knex.raw('to_char(?? AT TIME ZONE \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') AS ??', [column, alias])
}

/** jsonb goes in as text: node-postgres would turn a JavaScript array into a PostgreSQL array. */
export function jsonb (value: unknown): string | null | undefined {
  if (value === undefined) return undefined
  return value === null ? null : JSON.stringify(value)
}
