import type { Knex } from 'knex'

/**
 * The tables the engine keeps beside the schema it owns. `alembic_version` is Alembic's own
 * (the truth a human reads); `knex_migrations` is Knex's (kept as its migrator would keep it);
 * `aip_schema_revisions` pins each applied revision's checksum; `aip_schema_operations` is
 * the audit log.
 */
export const tables = {
  alembicVersion: 'alembic_version',
  knexMigrations: 'knex_migrations',
  knexMigrationsLock: 'knex_migrations_lock',
  revisions: 'aip_schema_revisions',
  operations: 'aip_schema_operations',
  plans: 'aip_schema_plans',
} as const

/** Serialises the one-time creation of the bookkeeping tables between replicas starting together. */
const bookkeepingDdlLockKey = 0x61697073_02

const ddl = [
  `CREATE TABLE IF NOT EXISTS alembic_version (
    version_num varchar(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
  )`,
  `CREATE TABLE IF NOT EXISTS aip_schema_revisions (
    revision varchar(64) NOT NULL PRIMARY KEY,
    checksum char(64) NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS aip_schema_operations (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    kind varchar(16) NOT NULL CHECK (kind IN ('upgrade', 'downgrade', 'stamp')),
    target varchar(200) NOT NULL,
    dry_run boolean NOT NULL DEFAULT false,
    status varchar(16) NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    from_revisions jsonb,
    to_revisions jsonb,
    steps jsonb NOT NULL DEFAULT '[]',
    error jsonb,
    actor varchar(200) NOT NULL,
    instance varchar(200) NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz
  )`,
  'CREATE INDEX IF NOT EXISTS aip_schema_operations_started_at ON aip_schema_operations (started_at DESC, id DESC)',
  // Knex's two tables, as its migrator creates them, so `knex migrate:list` reads this database.
  'CREATE TABLE IF NOT EXISTS knex_migrations (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz)',
  'CREATE TABLE IF NOT EXISTS knex_migrations_lock (index serial PRIMARY KEY, is_locked integer)',
  'INSERT INTO knex_migrations_lock (is_locked) SELECT 0 WHERE NOT EXISTS (SELECT FROM knex_migrations_lock)',
]

/**
 * Creates what is missing. `IF NOT EXISTS` alone races between two replicas (both pass the
 * check, one fails on the catalog's unique index), hence the short transaction-scoped lock.
 */
export async function ensureBookkeeping (knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [bookkeepingDdlLockKey])
    await trx.raw(ddl.join(';\n'))
  })
}
