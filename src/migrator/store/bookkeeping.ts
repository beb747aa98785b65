import type { Knex } from 'knex'

/**
 * The tables the engine keeps beside the schema it owns. `alembic_version` is Alembic's own
 * (the truth a human reads); `knex_migrations` is Knex's (kept as its migrator would keep it);
 * `aip_schema_revisions` pins each applied revision's checksum and records its place in the
 * graph; `aip_schema_operations` is the audit log; `aip_schema_interrupted` holds the
 * non-transactional revision under way until its record commits;
 * `aip_schema_operation_steps` holds each operation's steps, one row each;
 * `aip_schema_revisions_digest` is one row summing up every pinned checksum, kept by a trigger;
 * `aip_schema_replicas` is where each replica of the service says it is alive (src/replicas).
 * `aip_schema_backfills` holds each backfill's checkpoint and progress until its revision is
 * recorded; `aip_schema_operation_requests` a pause or cancel asked of a running operation.
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
  revisionsDigest: 'aip_schema_revisions_digest',
  replicas: 'aip_schema_replicas',
  archives: 'aip_schema_archives',
  // Kept by src/fleet/rollouts (its queue lives in a schema of its own): named here so drift passes them by.
  rollouts: 'aip_schema_rollouts',
  rolloutTargets: 'aip_schema_rollout_targets',
  backfills: 'aip_schema_backfills',
  operationRequests: 'aip_schema_operation_requests',
} as const

/** Serialises the one-time creation of the bookkeeping tables between replicas starting together. */
const bookkeepingDdlLockKey = 0x61697073_02

/**
 * The XOR of sha256(`revision checksum`) over the pinned revisions, kept by a trigger as they
 * are written, by whatever writes them: comparing it with the graph's is the no-op upgrade's
 * checksum check in one row, whatever the number of revisions. XOR, so a row in or out costs
 * O(1). Trigger and row are (re)made together from the table's rows when either is missing
 * (new bookkeeping, or a table dropped and made again). PostgreSQL 13's syntax.
 */
const revisionsDigestDdl = [
  `CREATE TABLE IF NOT EXISTS aip_schema_revisions_digest (
    single boolean NOT NULL DEFAULT true PRIMARY KEY CHECK (single),
    digest bit(256) NOT NULL
  )`,
  `DO $$
  DECLARE
    pinned record;
    total bit(256) := repeat('0', 256)::bit(256);
  BEGIN
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = to_regclass('aip_schema_revisions') AND tgname = 'aip_schema_revisions_digest')
       AND EXISTS (SELECT FROM aip_schema_revisions_digest) THEN
      RETURN;
    END IF;
    CREATE OR REPLACE FUNCTION aip_schema_pin_digest(revision text, checksum text) RETURNS bit(256)
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $f$ SELECT ('x' || encode(sha256(convert_to(revision || ' ' || checksum, 'UTF8')), 'hex'))::bit(256) $f$;
    CREATE OR REPLACE FUNCTION aip_schema_revisions_digest() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        UPDATE aip_schema_revisions_digest SET digest = repeat('0', 256)::bit(256);
      ELSIF TG_OP = 'INSERT' THEN
        UPDATE aip_schema_revisions_digest SET digest = digest # aip_schema_pin_digest(NEW.revision, NEW.checksum);
      ELSIF TG_OP = 'DELETE' THEN
        UPDATE aip_schema_revisions_digest SET digest = digest # aip_schema_pin_digest(OLD.revision, OLD.checksum);
      ELSIF (OLD.revision, OLD.checksum) IS DISTINCT FROM (NEW.revision, NEW.checksum) THEN
        UPDATE aip_schema_revisions_digest
           SET digest = digest # aip_schema_pin_digest(OLD.revision, OLD.checksum) # aip_schema_pin_digest(NEW.revision, NEW.checksum);
      END IF;
      RETURN NULL;
    END $f$;
    DROP TRIGGER IF EXISTS aip_schema_revisions_digest ON aip_schema_revisions;
    DROP TRIGGER IF EXISTS aip_schema_revisions_digest_truncate ON aip_schema_revisions;
    CREATE TRIGGER aip_schema_revisions_digest AFTER INSERT OR UPDATE OR DELETE ON aip_schema_revisions
      FOR EACH ROW EXECUTE FUNCTION aip_schema_revisions_digest();
    CREATE TRIGGER aip_schema_revisions_digest_truncate AFTER TRUNCATE ON aip_schema_revisions
      FOR EACH STATEMENT EXECUTE FUNCTION aip_schema_revisions_digest();
    FOR pinned IN SELECT revision, checksum FROM aip_schema_revisions LOOP
      total := total # aip_schema_pin_digest(pinned.revision, pinned.checksum);
    END LOOP;
    INSERT INTO aip_schema_revisions_digest (digest) VALUES (total)
      ON CONFLICT (single) DO UPDATE SET digest = EXCLUDED.digest;
  END $$`,
]

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
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass('aip_schema_operations') AND attname = 'backup' AND NOT attisdropped) THEN
      ALTER TABLE aip_schema_operations ADD COLUMN IF NOT EXISTS backup jsonb;
    END IF;
  END $$`,
  // Knex's two tables, as its migrator creates them, so `knex migrate:list` reads this database.
  'CREATE TABLE IF NOT EXISTS knex_migrations (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz)',
  'CREATE TABLE IF NOT EXISTS knex_migrations_lock (index serial PRIMARY KEY, is_locked integer)',
  // Each step's record reads the last batch and a down step deletes its row by name: looked up,
  // not scanned, however many revisions are applied. Only when missing, as above.
  `DO $$ BEGIN
    IF to_regclass('knex_migrations_batch') IS NULL THEN CREATE INDEX knex_migrations_batch ON knex_migrations (batch); END IF;
    IF to_regclass('knex_migrations_name') IS NULL THEN CREATE INDEX knex_migrations_name ON knex_migrations (name); END IF;
  END $$`,
  ...revisionsDigestDdl,
  // What steps destroyed: the data in schema aip_schema_archive, one table per archive, named by
  // id. Schema targets of one database each keep their own aip_schema_archives but share that
  // schema, so the ids come from one sequence there: no two targets name the same archive table.
  'CREATE SCHEMA IF NOT EXISTS aip_schema_archive',
  'CREATE SEQUENCE IF NOT EXISTS aip_schema_archive.archive_ids',
  `CREATE TABLE IF NOT EXISTS aip_schema_archives (
    id bigint PRIMARY KEY DEFAULT nextval('aip_schema_archive.archive_ids'),
    operation uuid,
    revision varchar(64),
    direction varchar(4) CHECK (direction IN ('up', 'down')),
    kind varchar(16) NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    columns jsonb,
    key_columns jsonb NOT NULL,
    rows bigint NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    restored_at timestamptz,
    expires_at timestamptz NOT NULL
  )`,
  // A backfill's checkpoint, moved in the statement of each batch; gone once its revision is recorded.
  `CREATE TABLE IF NOT EXISTS aip_schema_backfills (
    revision varchar(64) NOT NULL,
    direction varchar(4) NOT NULL CHECK (direction IN ('up', 'down')),
    step integer NOT NULL,
    operation uuid NOT NULL,
    last_key text,
    rows_done bigint NOT NULL DEFAULT 0,
    rows_total bigint,
    rows_per_second double precision,
    eta_ms bigint,
    batch_size integer,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (revision, direction, step)
  )`,
  'CREATE INDEX IF NOT EXISTS aip_schema_backfills_operation ON aip_schema_backfills (operation)',
  // Read with each batch: a request written by any replica reaches the one running the backfill.
  `CREATE TABLE IF NOT EXISTS aip_schema_operation_requests (
    operation uuid NOT NULL PRIMARY KEY,
    request varchar(8) NOT NULL CHECK (request IN ('pause', 'cancel')),
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`,
  // A paused backfill's operation is neither running nor finished.
  `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'aip_schema_operations_status_paused' AND conrelid = to_regclass('aip_schema_operations')) THEN
      ALTER TABLE aip_schema_operations DROP CONSTRAINT IF EXISTS aip_schema_operations_status_check;
      ALTER TABLE aip_schema_operations ADD CONSTRAINT aip_schema_operations_status_paused
        CHECK (status IN ('queued', 'running', 'paused', 'succeeded', 'failed'));
    END IF;
  END $$`,
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
