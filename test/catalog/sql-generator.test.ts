import t from 'tap'
import type { ColumnDefinition, ForeignKeyDefinition, IndexDefinition, SchemaDefinition, TableDefinition } from '../../src/catalog/schema.js'
import { generateMigration, statementsOf } from '../../src/catalog/sql-generator.js'
import { ident } from '../../src/catalog/sql-text.js'

const column = (name: string, type = 'uuid', nullable = false, defaultValue: string | null = null): ColumnDefinition =>
  ({ name, type, nullable, default: defaultValue })

const index = (name: string, table: string, columns: string[], extra: Partial<IndexDefinition> = {}): IndexDefinition => ({
  name,
  columns,
  unique: extra.unique ?? false,
  primary: false,
  method: 'btree',
  predicate: null,
  valid: true,
  definition: `CREATE ${extra.unique === true ? 'UNIQUE ' : ''}INDEX ${name} ON public.${table} USING btree (${columns.join(', ')})${extra.predicate == null ? '' : ` WHERE (${extra.predicate})`}`,
  ...extra,
})

const primaryKey = (table: string, columns = ['id']) => index(`${table}_pkey`, table, columns, { unique: true, primary: true })

const foreignKey = (name: string, columns: string[], target: string, extra: Partial<ForeignKeyDefinition> = {}): ForeignKeyDefinition =>
  ({ name, columns, target: { table: target, columns: ['id'] }, onDelete: 'CASCADE', onUpdate: 'NO ACTION', valid: true, ...extra })

function users (): TableDefinition {
  return { name: 'users', columns: [column('id', 'uuid', false, 'gen_random_uuid()'), column('email', 'character varying(255)')], indexes: [primaryKey('users')], foreignKeys: [], checks: [] }
}

function runs (): TableDefinition {
  return {
    name: 'runs',
    columns: [column('id'), column('user_id'), column('status', 'character varying(20)', false, "'pending'::character varying"), column('notes', 'text', true)],
    indexes: [primaryKey('runs'), index('ix_runs_user_id', 'runs', ['user_id'])],
    foreignKeys: [foreignKey('runs_user_id_fkey', ['user_id'], 'users')],
    checks: [],
  }
}

const head: SchemaDefinition = { tables: [runs(), users()] }

function changed (change: (tables: { runs: TableDefinition, users: TableDefinition }) => TableDefinition[]): SchemaDefinition {
  return { tables: change({ runs: runs(), users: users() }) }
}

t.test('equal schemas need no revision', async (t) => {
  t.same(generateMigration(head, head), { phases: [], unsupported: [] })
})

t.test('a new table: one transactional revision, the table, its indexes, then its foreign keys; down drops it', async (t) => {
  const notes: TableDefinition = {
    name: 'notes',
    columns: [column('id', 'integer', false, "nextval('notes_id_seq'::regclass)"), column('run_id'), column('order', 'integer', true)],
    indexes: [primaryKey('notes'), index('ix_notes_run_id', 'notes', ['run_id'])],
    foreignKeys: [foreignKey('notes_run_id_fkey', ['run_id'], 'runs')],
    checks: [{ name: 'ck_notes_order', definition: 'CHECK (("order" > 0))', valid: true }],
  }
  const { phases } = generateMigration(head, changed(({ runs, users }) => [notes, runs, users]))
  t.equal(phases.length, 1)
  t.match(phases[0], { transactional: true, breaking: false, notes: [] })
  t.same(phases[0]?.up, [
    'CREATE TABLE notes (\n      id serial,\n      run_id uuid NOT NULL,\n      "order" integer,\n      CONSTRAINT notes_pkey PRIMARY KEY (id),\n      CONSTRAINT ck_notes_order CHECK (("order" > 0))\n    )',
    'CREATE INDEX ix_notes_run_id ON notes USING btree (run_id)',
    'ALTER TABLE notes ADD CONSTRAINT notes_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id) ON DELETE CASCADE',
  ])
  t.same(phases[0]?.down, ['ALTER TABLE notes DROP CONSTRAINT IF EXISTS notes_run_id_fkey', 'DROP TABLE notes'])
})

t.test('a dropped table is breaking, says so, and down builds it again with its keys', async (t) => {
  const { phases } = generateMigration(head, changed(({ users }) => [users]))
  t.match(phases, [{ transactional: true, breaking: true, up: ['DROP TABLE runs'], notes: [/^drops table runs and every row in it/] }])
  t.match(phases[0]?.down, [/^CREATE TABLE runs \(/, 'CREATE INDEX ix_runs_user_id ON runs USING btree (user_id)',
    'ALTER TABLE runs ADD CONSTRAINT runs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE'])
})

t.test('a column added with a default, and an index on it: the column first, then the index built concurrently in a second revision', async (t) => {
  const { phases } = generateMigration(head, changed(({ runs, users }) => [{
    ...runs,
    columns: [...runs.columns, column('priority', 'integer', false, '0')],
    indexes: [...runs.indexes, index('ix_runs_priority', 'runs', ['priority'], { predicate: 'priority > 0' })],
  }, users]))
  t.match(phases, [
    { transactional: true, up: ['ALTER TABLE runs ADD COLUMN priority integer NOT NULL DEFAULT 0'], down: ['ALTER TABLE runs DROP COLUMN priority'] },
    {
      transactional: false,
      up: [/^DO \$\$[^]*to_regclass\('ix_runs_priority'\) AND NOT indisvalid[^]*DROP INDEX ix_runs_priority;/,
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_runs_priority ON runs USING btree (priority) WHERE (priority > 0)'],
      down: ['DROP INDEX CONCURRENTLY IF EXISTS ix_runs_priority'],
    },
  ])
  t.same(statementsOf(generateMigration(head, head)), { up: [], down: [] })
  const all = statementsOf({ phases, unsupported: [] })
  t.equal(all.up[0], 'ALTER TABLE runs ADD COLUMN priority integer NOT NULL DEFAULT 0', 'the transactional half runs first')
  t.equal(all.down.at(-1), 'ALTER TABLE runs DROP COLUMN priority', 'and is undone last')
})

t.test('a dropped index goes concurrently, a unique one through its constraint too; down builds it again concurrently', async (t) => {
  const { phases } = generateMigration(changed(({ runs, users }) => [runs, { ...users, indexes: [...users.indexes, index('ix_users_email', 'users', ['email'], { unique: true })] }]),
    changed(({ runs, users }) => [{ ...runs, indexes: [primaryKey('runs')] }, users]))
  t.match(phases, [{
    transactional: false,
    breaking: false,
    up: ['DROP INDEX CONCURRENTLY IF EXISTS ix_runs_user_id', 'ALTER TABLE users DROP CONSTRAINT IF EXISTS ix_users_email', 'DROP INDEX CONCURRENTLY IF EXISTS ix_users_email'],
    down: [/^DO \$\$/, 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users USING btree (email)',
      /^DO \$\$/, 'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_runs_user_id ON runs USING btree (user_id)'],
  }])
})

t.test('a foreign key and a check on an existing table: NOT VALID, then validated, re-runnable', async (t) => {
  const { phases } = generateMigration(changed(({ runs, users }) => [{ ...runs, foreignKeys: [] }, users]), changed(({ runs, users }) => [{
    ...runs,
    foreignKeys: [foreignKey('runs_user_id_fkey', ['user_id'], 'users', { onDelete: 'SET NULL' })],
    checks: [{ name: 'ck_runs_status', definition: "CHECK (((status)::text <> ''::text))", valid: true }],
  }, users]))
  t.match(phases, [{
    transactional: false,
    up: [
      /IF NOT EXISTS \(SELECT 1 FROM pg_constraint WHERE conrelid = 'runs'::regclass AND conname = 'ck_runs_status'\)[^]*ADD CONSTRAINT ck_runs_status CHECK \(\(\(status\)::text <> ''::text\)\) NOT VALID;/,
      'ALTER TABLE runs VALIDATE CONSTRAINT ck_runs_status',
      /ADD CONSTRAINT runs_user_id_fkey FOREIGN KEY \(user_id\) REFERENCES users \(id\) ON DELETE SET NULL NOT VALID;/,
      'ALTER TABLE runs VALIDATE CONSTRAINT runs_user_id_fkey',
    ],
    down: ['ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_user_id_fkey', 'ALTER TABLE runs DROP CONSTRAINT IF EXISTS ck_runs_status'],
  }])
})

t.test('a constraint left NOT VALID on purpose is added NOT VALID and not validated', async (t) => {
  const { phases } = generateMigration(head, changed(({ runs, users }) => [{ ...runs, checks: [{ name: 'ck_runs_notes', definition: 'CHECK ((notes <> \'\'::text)) NOT VALID', valid: false }] }, users]))
  t.equal(phases[0]?.up.length, 1)
  t.match(phases[0]?.up[0], /CHECK \(\(notes <> ''::text\)\) NOT VALID;/)
})

t.test('SET NOT NULL on an existing table goes through a validated check; DROP NOT NULL is a catalog change', async (t) => {
  const { phases } = generateMigration(head, changed(({ runs, users }) => [{ ...runs, columns: runs.columns.map((c) => c.name === 'notes' ? { ...c, nullable: false } : c) }, users]))
  t.match(phases, [{
    transactional: false,
    up: [/ADD CONSTRAINT runs_notes_not_null CHECK \(notes IS NOT NULL\) NOT VALID;/, 'ALTER TABLE runs VALIDATE CONSTRAINT runs_notes_not_null',
      'ALTER TABLE runs ALTER COLUMN notes SET NOT NULL', 'ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_notes_not_null'],
    down: ['ALTER TABLE runs ALTER COLUMN notes DROP NOT NULL'],
  }])
})

t.test("a column's type and default change together: the old default goes first", async (t) => {
  const { phases } = generateMigration(head, changed(({ runs, users }) => [{
    ...runs,
    columns: runs.columns.map((c) => c.name === 'status' ? { ...c, type: 'text', default: "'new'::text" } : c.name === 'notes' ? { ...c, default: "''::text" } : c),
  }, users]))
  t.match(phases, [{
    transactional: true,
    up: ['ALTER TABLE runs ALTER COLUMN notes SET DEFAULT \'\'::text', 'ALTER TABLE runs ALTER COLUMN status DROP DEFAULT',
      'ALTER TABLE runs ALTER COLUMN status TYPE text USING status::text', "ALTER TABLE runs ALTER COLUMN status SET DEFAULT 'new'::text"],
    down: ['ALTER TABLE runs ALTER COLUMN status DROP DEFAULT', 'ALTER TABLE runs ALTER COLUMN status TYPE character varying(20) USING status::character varying(20)',
      "ALTER TABLE runs ALTER COLUMN status SET DEFAULT 'pending'::character varying", 'ALTER TABLE runs ALTER COLUMN notes DROP DEFAULT'],
  }])
})

t.test('a dropped column is breaking; one that vanished while another of its type appeared asks whether it was a rename', async (t) => {
  const { phases } = generateMigration(head, changed(({ runs, users }) => [{ ...runs, columns: [...runs.columns.filter((c) => c.name !== 'notes'), column('remarks', 'text', true)] }, users]))
  t.match(phases, [{
    transactional: true,
    breaking: true,
    up: ['ALTER TABLE runs DROP COLUMN notes', 'ALTER TABLE runs ADD COLUMN remarks text'],
    down: ['ALTER TABLE runs DROP COLUMN remarks', 'ALTER TABLE runs ADD COLUMN notes text'],
    notes: [/^drops column runs\.notes and the data in it/, /runs\.notes vanished and runs\.remarks \(text\) appeared[^]*rename\? Then replace both with ALTER TABLE runs RENAME COLUMN notes TO remarks/],
  }])
})

t.test('an index or key on a dropped column goes in the transactional revision, so down builds it after the column is back', async (t) => {
  const { phases } = generateMigration(head, changed(({ runs, users }) => [{ ...runs, columns: runs.columns.filter((c) => c.name !== 'user_id'), indexes: [primaryKey('runs')], foreignKeys: [] }, users]))
  t.equal(phases.length, 1)
  t.match(phases[0], {
    transactional: true,
    breaking: true,
    up: ['ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_user_id_fkey', 'DROP INDEX IF EXISTS ix_runs_user_id', 'ALTER TABLE runs DROP COLUMN user_id'],
    down: ['ALTER TABLE runs ADD COLUMN user_id uuid NOT NULL', 'CREATE INDEX ix_runs_user_id ON runs USING btree (user_id)',
      'ALTER TABLE runs ADD CONSTRAINT runs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE'],
  })
})

t.test('a primary key added to an existing table is built concurrently and attached', async (t) => {
  const { phases } = generateMigration(changed(({ runs, users }) => [{ ...runs, indexes: runs.indexes.filter((i) => !i.primary) }, users]), head)
  t.match(phases, [{
    transactional: false,
    up: [/^DO \$\$/, 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS runs_pkey ON runs USING btree (id)', /ADD CONSTRAINT runs_pkey PRIMARY KEY USING INDEX runs_pkey;/],
    down: ['ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_pkey'],
  }])
})

t.test('an INVALID index is no schema to copy: listed, not written', async (t) => {
  const migration = generateMigration(head, changed(({ runs, users }) => [{ ...runs, indexes: [...runs.indexes, index('ix_runs_status', 'runs', ['status'], { valid: false })] }, users]))
  t.same(migration.phases, [])
  t.match(migration.unsupported, [/index ix_runs_status on runs is INVALID/])
})

t.test('names are quoted where PostgreSQL needs it', async (t) => {
  t.equal(ident('order'), '"order"')
  t.equal(ident('model_runs'), 'model_runs')
  t.equal(ident('Mixed'), '"Mixed"')
  t.equal(ident('a"b'), '"a""b"')
})
