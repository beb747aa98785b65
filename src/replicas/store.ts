import type { Knex } from 'knex'
import { tables } from '../migrator/index.js'
import { isUndefinedTable } from '../database/pg-errors.js'
import type { ReplicaState } from './state.js'

/** One replica as it last said it was. */
export interface Replica {
  readonly instance: string
  readonly version: string
  /** The heads of the revisions its code knows. */
  readonly heads: string[]
  readonly startedAt: string
  readonly lastSeenAt: string
  readonly state: ReplicaState
  readonly reason: string | null
}

export type ReplicaRecord = Omit<Replica, 'lastSeenAt'>

const replicasTable = tables.replicas
/** A replica not seen for this long is deleted by the next heartbeat of any replica. */
const keptHours = 24
/** Serialises the one-time creation of the table between replicas starting together, as the bookkeeping's own does. */
const replicasDdlLockKey = 0x61697073_72

const ddl = `CREATE TABLE IF NOT EXISTS ${replicasTable} (
  instance varchar(200) NOT NULL PRIMARY KEY,
  version varchar(100) NOT NULL,
  heads jsonb NOT NULL,
  state varchar(16) NOT NULL CHECK (state IN ('ready', 'compatible-ahead', 'unready')),
  reason text,
  started_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${replicasTable}_last_seen_at ON ${replicasTable} (last_seen_at)`

// One statement, one round trip: the purge of long-gone replicas rides on every heartbeat.
const upsert = `WITH purged AS (
  DELETE FROM ${replicasTable} WHERE last_seen_at < clock_timestamp() - interval '${keptHours} hours'
)
INSERT INTO ${replicasTable} (instance, version, heads, state, reason, started_at, last_seen_at)
VALUES (?, ?, ?::jsonb, ?, ?, ?, clock_timestamp())
ON CONFLICT (instance) DO UPDATE SET
  version = EXCLUDED.version, heads = EXCLUDED.heads, state = EXCLUDED.state, reason = EXCLUDED.reason,
  started_at = EXCLUDED.started_at, last_seen_at = EXCLUDED.last_seen_at`

interface ReplicaRow {
  instance: string
  version: string
  heads: string[]
  state: ReplicaState
  reason: string | null
  started_at: Date
  last_seen_at: Date
}

/**
 * The replicas table, beside the bookkeeping (so drift and autogenerate leave it out). It is
 * made by the first heartbeat that finds the bookkeeping there: a database this service never
 * migrated is not written to, and reads stay read-only.
 */
export function createReplicaStore (knex: Knex) {
  const write = (replica: ReplicaRecord) => knex.raw(upsert, [replica.instance, replica.version, JSON.stringify(replica.heads), replica.state, replica.reason, replica.startedAt])

  return {
    /** Records the replica; false when the database has no bookkeeping yet, so nothing was written. */
    async record (replica: ReplicaRecord): Promise<boolean> {
      try {
        await write(replica)
        return true
      } catch (error) {
        if (!isUndefinedTable(error)) throw error
      }
      const created = await knex.transaction(async (trx) => {
        const { rows } = await trx.raw<{ rows: Array<{ bookkept: boolean }> }>('SELECT to_regclass(?) IS NOT NULL AS bookkept', [tables.revisions])
        if (rows[0]?.bookkept !== true) return false
        await trx.raw('SELECT pg_advisory_xact_lock(?)', [replicasDdlLockKey])
        await trx.raw(ddl)
        return true
      })
      if (created) await write(replica)
      return created
    },

    /** The replicas seen within `windowMs`, by version then instance; none when the table is not there yet. */
    async live (windowMs: number): Promise<Replica[]> {
      try {
        const rows = await knex<ReplicaRow>(replicasTable)
          .where('last_seen_at', '>', knex.raw('clock_timestamp() - make_interval(secs => ?)', [windowMs / 1000]))
          .orderBy([{ column: 'version', order: 'desc' }, { column: 'instance' }])
        return rows.map(toReplica)
      } catch (error) {
        if (isUndefinedTable(error)) return []
        throw error
      }
    },

    /** A replica that shuts down says so at once rather than being missed for three intervals. */
    async remove (instance: string): Promise<void> {
      try {
        await knex(replicasTable).where({ instance }).delete()
      } catch (error) {
        if (!isUndefinedTable(error)) throw error
      }
    },
  }
}

export type ReplicaStore = ReturnType<typeof createReplicaStore>

function toReplica (row: ReplicaRow): Replica {
  return {
    instance: row.instance,
    version: row.version,
    heads: row.heads,
    startedAt: row.started_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    state: row.state,
    reason: row.reason,
  }
}
