import type { Knex } from 'knex'

/** The PostgreSQL channel on which every replica hears that `alembic_version` changed. */
export const versionChannel = 'aip_schema_version'

/**
 * Sent inside the transaction that writes the version: PostgreSQL delivers it on commit and
 * drops it on rollback, so a listener never hears of a version that did not happen.
 */
export async function notifyVersionChanged (db: Knex | Knex.Transaction, heads: readonly string[]): Promise<void> {
  await db.raw('SELECT pg_notify(?, ?)', [versionChannel, heads.join(',')])
}
