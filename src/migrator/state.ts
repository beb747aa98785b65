import type { Knex } from 'knex'
import { DatabaseStateMismatchError } from './errors.js'
import type { RevisionGraph } from './graph.js'
import { isUndefinedTable } from './pg-errors.js'

export interface DatabaseState {
  /** What `alembic_version` holds: the applied heads. [] at base. */
  readonly heads: string[]
  /** Revisions applied by this service, with their checksums; empty for a database Alembic brought. */
  readonly applied: ReadonlyMap<string, AppliedRevision>
}

export interface AppliedRevision {
  readonly checksum: string
  readonly appliedAt: string
}

const stateQuery = `SELECT
  (SELECT coalesce(json_agg(version_num ORDER BY version_num), '[]') FROM alembic_version) AS heads,
  (SELECT coalesce(json_object_agg(revision, json_build_object('checksum', checksum, 'appliedAt', applied_at)), '{}')
     FROM aip_schema_revisions) AS applied`

/**
 * Reads the version without creating anything or taking any lock: probes and dashboards call
 * this while another replica migrates. One round trip when the bookkeeping exists.
 */
export async function readDatabaseState (knex: Knex | Knex.Transaction): Promise<DatabaseState> {
  try {
    const { rows } = await knex.raw<{ rows: Array<{ heads: string[], applied: Record<string, AppliedRevision> }> }>(stateQuery)
    const row = rows[0]
    return { heads: row?.heads ?? [], applied: new Map(Object.entries(row?.applied ?? {}).map(([id, entry]) => [id, normalise(entry)])) }
  } catch (error) {
    if (!isUndefinedTable(error)) throw error
  }
  return readPartialState(knex)
}

async function readPartialState (knex: Knex | Knex.Transaction): Promise<DatabaseState> {
  const { rows } = await knex.raw<{ rows: Array<{ alembic: boolean, revisions: boolean }> }>(
    "SELECT to_regclass('alembic_version') IS NOT NULL AS alembic, to_regclass('aip_schema_revisions') IS NOT NULL AS revisions"
  )
  const present = rows[0] ?? { alembic: false, revisions: false }
  const heads = present.alembic
    ? (await knex('alembic_version').select('version_num').orderBy('version_num')).map((row: { version_num: string }) => row.version_num)
    : []
  const applied = present.revisions
    ? new Map((await knex('aip_schema_revisions').select('revision', 'checksum', 'applied_at'))
      .map((row: { revision: string, checksum: string, applied_at: Date }) => [row.revision, normalise({ checksum: row.checksum, appliedAt: row.applied_at })] as const))
    : new Map<string, AppliedRevision>()
  return { heads, applied }
}

function normalise (entry: { checksum: string, appliedAt: string | Date }): AppliedRevision {
  return { checksum: entry.checksum, appliedAt: new Date(entry.appliedAt).toISOString() }
}

/**
 * Nothing may run against a database at a revision this code does not know or whose SQL
 * changed. A stamp checks less: it is how an operator declares what is true.
 */
export function verifyDatabaseState (graph: RevisionGraph, state: DatabaseState, check: 'all' | 'unknown-only' | 'nothing' = 'all'): void {
  if (check === 'nothing') return
  const unknown = state.heads.filter((id) => !graph.has(id))
  for (const id of state.applied.keys()) {
    if (!graph.has(id) && !unknown.includes(id)) unknown.push(id)
  }
  const mismatched = check === 'unknown-only'
    ? []
    : [...state.applied]
        .filter(([id, entry]) => graph.has(id) && graph.get(id).checksum !== entry.checksum)
        .map(([id]) => id)
  if (unknown.length > 0 || mismatched.length > 0) {
    throw new DatabaseStateMismatchError(unknown.sort(), mismatched.sort())
  }
}
