import type { Knex } from 'knex'

/** Parsed back by `readLockHolder`: the instance that holds the lock. */
export const migrationSessionPrefix = 'aip-schema|'

/**
 * The `application_name` of the session that holds the migration lock and runs the revisions:
 * how a blocked replica names the holder, how a shutdown finds the backend to cancel, and how an
 * operator sees in `pg_stat_activity` which statement is a migration's.
 */
export function migrationSessionName (instance: string): string {
  return `${migrationSessionPrefix}${instance}`.slice(0, 63)
}

/** Cancels the statement this instance's migration session runs; PostgreSQL then rolls its transaction back. */
export async function cancelMigrationStatements (knex: Knex, instance: string): Promise<number> {
  const { rows } = await knex.raw<{ rows: Array<{ cancelled: number }> }>(
    `SELECT count(*) FILTER (WHERE pg_cancel_backend(pid))::int AS cancelled
       FROM pg_stat_activity
      WHERE application_name = ? AND datname = current_database() AND pid <> pg_backend_pid()`,
    [migrationSessionName(instance)]
  )
  return rows[0]?.cancelled ?? 0
}
