import type { Knex } from 'knex'
import { tables } from './bookkeeping.js'
import { migrationLockHeldSql } from '../run/lock.js'
import { sqlStateOf } from '../../database/pg-errors.js'

export interface DatabaseState {
  /** What `alembic_version` holds: the applied heads. [] at base. */
  readonly heads: string[]
  /** Revisions applied by this service, with their checksums; empty for a database Alembic brought. */
  readonly applied: ReadonlyMap<string, AppliedRevision>
  /** A non-transactional revision cut off mid-way, while no migration runs; null otherwise. */
  readonly interrupted: InterruptedRevision | null
}

export interface AppliedRevision {
  readonly checksum: string
  readonly appliedAt: string
  /** Its place in the graph, recorded when it was applied; null in records older than that. */
  readonly downRevisions: readonly string[] | null
  readonly description: string | null
  readonly breaking: boolean
}

export interface InterruptedRevision {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly operation: string
  readonly startedAt: string
}

interface AppliedRow {
  readonly checksum: string
  readonly appliedAt: string | Date
  readonly downRevisions?: string[] | null
  readonly description?: string | null
  readonly breaking?: boolean | null
}

/*
 * An interrupted revision is only one while nobody migrates: under the lock it is the revision
 * being (re)run, not a leftover.
 */
const stateQuery = `SELECT
  (SELECT coalesce(json_agg(version_num ORDER BY version_num), '[]') FROM ${tables.alembicVersion}) AS heads,
  (SELECT coalesce(json_object_agg(revision, json_build_object('checksum', checksum, 'appliedAt', applied_at,
      'downRevisions', down_revisions, 'description', description, 'breaking', breaking)), '{}')
     FROM ${tables.revisions}) AS applied,
  (SELECT json_build_object('revision', revision, 'direction', direction, 'operation', operation, 'startedAt', started_at)
     FROM ${tables.interrupted} WHERE NOT ${migrationLockHeldSql} ORDER BY started_at LIMIT 1) AS interrupted`

/** The bookkeeping is missing, or older than this code: the state is read piece by piece. */
const partialBookkeeping = new Set(['42P01', '42703'])

/**
 * Reads the version without creating anything or taking any lock: probes and dashboards call
 * this while another replica migrates. One round trip when the bookkeeping exists.
 */
export async function readDatabaseState (knex: Knex | Knex.Transaction): Promise<DatabaseState> {
  try {
    const { rows } = await knex.raw<{ rows: Array<{ heads: string[], applied: Record<string, AppliedRow>, interrupted: InterruptedRevision | null }> }>(stateQuery)
    const row = rows[0]
    return {
      heads: row?.heads ?? [],
      applied: appliedMap(Object.entries(row?.applied ?? {})),
      interrupted: row?.interrupted === null || row?.interrupted === undefined ? null : { ...row.interrupted, startedAt: new Date(row.interrupted.startedAt).toISOString() },
    }
  } catch (error) {
    if (!partialBookkeeping.has(sqlStateOf(error) ?? '')) throw error
  }
  return readPartialState(knex)
}

async function readPartialState (knex: Knex | Knex.Transaction): Promise<DatabaseState> {
  const { rows } = await knex.raw<{ rows: Array<{ alembic: boolean, revisions: boolean }> }>(
    `SELECT to_regclass('${tables.alembicVersion}') IS NOT NULL AS alembic, to_regclass('${tables.revisions}') IS NOT NULL AS revisions`
  )
  const present = rows[0] ?? { alembic: false, revisions: false }
  const heads = present.alembic
    ? (await knex(tables.alembicVersion).select('version_num').orderBy('version_num')).map((row: { version_num: string }) => row.version_num)
    : []
  const applied = present.revisions
    ? appliedMap((await knex(tables.revisions).select('*'))
      .map((row: { revision: string, checksum: string, applied_at: Date }) => [row.revision, { checksum: row.checksum, appliedAt: row.applied_at }]))
    : new Map<string, AppliedRevision>()
  // Bookkeeping this old never recorded a revision under way.
  return { heads, applied, interrupted: null }
}

/** Whether two reads found the same version and the same records: what a plan is made from. */
export function sameState (a: DatabaseState, b: DatabaseState): boolean {
  if (a === b) return true
  if (a.heads.length !== b.heads.length || a.applied.size !== b.applied.size || !a.heads.every((id, index) => b.heads[index] === id)) return false
  for (const [id, entry] of a.applied) {
    const other = b.applied.get(id)
    if (other === undefined || other.checksum !== entry.checksum || other.breaking !== entry.breaking ||
      JSON.stringify(other.downRevisions) !== JSON.stringify(entry.downRevisions)) return false
  }
  return true
}

function appliedMap (entries: Array<[string, AppliedRow]>): ReadonlyMap<string, AppliedRevision> {
  return new Map(entries.map(([id, entry]) => [id, {
    checksum: entry.checksum,
    appliedAt: new Date(entry.appliedAt).toISOString(),
    downRevisions: entry.downRevisions ?? null,
    description: entry.description ?? null,
    breaking: entry.breaking === true,
  }]))
}
