import type { Knex } from 'knex'

/**
 * The tables the engine keeps beside the schema it owns. `alembic_version` is Alembic's own
 * (the truth a human reads); `knex_migrations` is Knex's (kept as its migrator would keep it);
 * `aip_schema_revisions` pins each applied revision's checksum and records its place in the
 * graph; `aip_schema_operations` is the audit log; `aip_schema_interrupted` holds the
 * non-transactional revision under way until its record commits;
 * `aip_schema_operation_steps` holds each operation's steps, one row each.
 */
export const tables = {
  alembicVersion: 'alembic_version',
  knexMigrations: 'knex_migrations',
  knexMigrationsLock: 'knex_migrations_lock',
  revisions: 'aip_schema_revisions',
  operations: 'aip_schema_operations',
  interrupted: 'aip_schema_interrupted',
  operationSteps: 'aip_schema_operation_steps',
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
  // Where an applied revision sits in the graph, so a replica whose code lacks it can still place it.
  // Only when missing: ALTER TABLE takes its lock before it finds there is nothing to add.
  `DO $$ BEGIN
    IF to_regclass('aip_schema_revisions') IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute
        WHERE attrelid = to_regclass('aip_schema_revisions') AND attname = 'breaking' AND NOT attisdropped) THEN
      ALTER TABLE aip_schema_revisions
        ADD COLUMN IF NOT EXISTS down_revisions jsonb,
        ADD COLUMN IF NOT EXISTS description text,
        ADD COLUMN IF NOT EXISTS breaking boolean NOT NULL DEFAULT false;
    END IF;
  END $$`,
  // A non-transactional revision under way: the row outlives a process cut off mid-way.
  `CREATE TABLE IF NOT EXISTS aip_schema_interrupted (
    revision varchar(64) NOT NULL PRIMARY KEY,
    direction varchar(4) NOT NULL CHECK (direction IN ('up', 'down')),
    operation uuid NOT NULL,
    instance varchar(200) NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp()
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
  // One row per step as it completes: an operation of a thousand steps writes each once, not the whole list each time.
  `CREATE TABLE IF NOT EXISTS aip_schema_operation_steps (
    operation uuid NOT NULL REFERENCES aip_schema_operations (id) ON DELETE CASCADE,
    position integer NOT NULL,
    step jsonb NOT NULL,
    PRIMARY KEY (operation, position)
  )`,
  `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass('aip_schema_operations') AND attname = 'steps_total' AND NOT attisdropped) THEN
      ALTER TABLE aip_schema_operations ADD COLUMN IF NOT EXISTS steps_total integer;
    END IF;
  END $$`,
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
