import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { ClientBase, QueryResult, QueryResultRow } from 'pg'
import { tables } from './bookkeeping.js'
import { isUndefinedTable } from '../../database/pg-errors.js'

export interface NoOpUpgradeEntry {
  readonly target: string
  readonly actor: string
  readonly instance: string
  /** The graph's heads: what `alembic_version` must hold for the upgrade to be a no-op. */
  readonly heads: readonly string[]
  /** Every revision's checksum: an applied revision pinned to anything else is not a no-op. */
  readonly checksums: Readonly<Record<string, string>>
}

/*
 * One statement both checks and records: `alembic_version` holds exactly the expected heads
 * and the pinned checksums are exactly the graph's (their digest row against the graph's
 * digest: no row per revision is read, and the statement is the same size at any number of
 * revisions), and only then the succeeded operation is inserted. Being one statement it is one round trip and one snapshot: the audit row never
 * claims a state the database was not in.
 *
 * Its commit is asynchronous (for this transaction only): waiting for the WAL flush was most
 * of the call's time. The row is visible at once; only a crash of PostgreSQL itself within
 * a few hundred milliseconds could lose it, and with it nothing but the record that nothing
 * was done. Operations that change the schema keep synchronous commits.
 */
const recordIfAtHeads = `WITH state AS (
  SELECT (SELECT coalesce(jsonb_agg(version_num ORDER BY version_num), '[]') FROM ${tables.alembicVersion}) AS heads,
         set_config('synchronous_commit', 'off', true) AS asynchronous_commit,
         coalesce((SELECT digest = CAST(('x' || $1) AS bit(256)) FROM ${tables.revisionsDigest}), false) AS pinned
), recorded AS (
  INSERT INTO ${tables.operations} (kind, target, dry_run, actor, instance, status, from_revisions, to_revisions, finished_at)
  SELECT 'upgrade', $2, false, $3, $4, 'succeeded', heads, heads, clock_timestamp()
    FROM state
   WHERE pinned AND heads @> CAST($5 AS jsonb) AND CAST($5 AS jsonb) @> heads
  RETURNING id
)
SELECT heads, EXISTS (SELECT 1 FROM recorded) AS recorded FROM state`

/** Runs one named statement: PostgreSQL parses and plans it once per connection, not per call. */
export interface NamedStatement { readonly name: string, readonly text: string, readonly values: readonly unknown[] }
export type PreparedQuery = <Row extends QueryResultRow>(query: NamedStatement) => Promise<Pick<QueryResult<Row>, 'rows'>>

/** A `PreparedQuery` on a connection of Knex's pool, taken for the one statement. */
export function preparedOnPool (knex: Knex): PreparedQuery {
  return async <Row extends QueryResultRow>(query: NamedStatement) => {
    const connection = await knex.client.acquireConnection() as ClientBase
    try {
      return await connection.query<Row>({ name: query.name, text: query.text, values: [...query.values] })
    } finally {
      await knex.client.releaseConnection(connection)
    }
  }
}

/**
 * Records a no-op upgrade when the database is at the expected heads, in one round trip of a
 * prepared statement. `recorded: false` means it was not (or the bookkeeping is missing): the
 * caller takes the full path, which reads the state again and says what is wrong.
 */
export async function recordNoOpUpgrade (query: PreparedQuery, entry: NoOpUpgradeEntry): Promise<{ recorded: boolean, heads: string[] }> {
  try {
    const { rows } = await query<{ heads: string[], recorded: boolean }>({
      name: 'aip_schema_record_no_op_upgrade',
      text: recordIfAtHeads,
      values: [pinnedDigest(entry.checksums), entry.target, entry.actor, entry.instance, JSON.stringify(entry.heads)],
    })
    const row = rows[0]
    return { recorded: row?.recorded === true, heads: row?.heads ?? [] }
  } catch (error) {
    if (isUndefinedTable(error)) return { recorded: false, heads: [] }
    throw error
  }
}

const digests = new WeakMap<Readonly<Record<string, string>>, string>()

/**
 * What `aip_schema_revisions_digest` holds when exactly these checksums are pinned: the XOR of
 * sha256(`revision checksum`) over them, as the bookkeeping's trigger sums it. Computed once
 * per checksums object, not once per call.
 */
export function pinnedDigest (checksums: Readonly<Record<string, string>>): string {
  const known = digests.get(checksums)
  if (known !== undefined) return known
  const total = Buffer.alloc(32)
  for (const [revision, checksum] of Object.entries(checksums)) {
    const pin = createHash('sha256').update(`${revision} ${checksum}`).digest()
    for (let index = 0; index < total.length; index++) total[index] = (total[index] ?? 0) ^ (pin[index] ?? 0)
  }
  const digest = total.toString('hex')
  digests.set(checksums, digest)
  return digest
}
