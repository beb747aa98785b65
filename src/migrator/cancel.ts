import type { Knex } from 'knex'

const prefix = 'aip-schema-migration|'

/**
 * The `application_name` a migration's session carries while a step runs (transaction-local in a
 * transactional step, reset after a step outside one): how a shutdown finds the backend to
 * cancel, and how an operator sees in `pg_stat_activity` which statement is a migration's.
 */
export function migrationSessionName (instance: string): string {
  return `${prefix}${instance}`.slice(0, 63)
}

/** Cancels the statement this instance's migration transaction runs; PostgreSQL then rolls the transaction back. */
export async function cancelMigrationStatements (knex: Knex, instance: string): Promise<number> {
  const { rows } = await knex.raw<{ rows: Array<{ cancelled: number }> }>(
    `SELECT count(*) FILTER (WHERE pg_cancel_backend(pid))::int AS cancelled
       FROM pg_stat_activity
      WHERE application_name = ? AND datname = current_database() AND pid <> pg_backend_pid()`,
    [migrationSessionName(instance)]
  )
  return rows[0]?.cancelled ?? 0
}
