import t from 'tap'
import { bearer, buildTestApp, tokens } from '../../helpers/app.js'
import { createTestDatabase } from '../../helpers/database.js'
import type { LiveSchema, LiveTable } from '../../../src/catalog/schema.js'

const url = await createTestDatabase(t, 'schema')
const app = await buildTestApp(t, url)
const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
if (upgraded.statusCode !== 200) throw new Error(`upgrade to head failed: ${upgraded.body}`)

const response = await app.inject({ url: '/schema', headers: bearer('read') })
const live = response.json() as LiveSchema
function table (name: string): LiveTable {
  const found = live.tables.find((entry) => entry.name === name)
  if (found === undefined) throw new Error(`no table ${name} in GET /schema`)
  return found
}

t.test('the tables at head, by name, the bookkeeping marked as such', async (t) => {
  t.equal(response.statusCode, 200)
  t.equal(live.schema, 'public')
  t.same(live.tables.filter((table) => !table.bookkeeping).map((table) => table.name), [
    'datasets', 'experiments', 'feature_engineering', 'generated_code', 'model_runs', 'preprocessing_history', 'preprocessing_steps', 'tuning_runs', 'users',
  ], 'the data tables, not marked')
  // Which bookkeeping tables exist depends on what has run (archives, backfills, rollouts each make theirs on first use).
  const bookkeeping = live.tables.filter((table) => table.bookkeeping).map((table) => table.name)
  t.same(bookkeeping.filter((name) => !/^(aip_schema_[a-z_]+|alembic_version|knex_migrations(_lock)?)$/.test(name)), [], 'only the engine\'s own tables are marked')
  for (const name of ['alembic_version', 'knex_migrations', 'knex_migrations_lock', 'aip_schema_operations', 'aip_schema_revisions']) t.ok(bookkeeping.includes(name), `${name} is marked`)
})

t.test('columns in table order with type, nullability and default', async (t) => {
  t.same(table('users').columns, [
    { name: 'id', type: 'uuid', nullable: false, default: 'gen_random_uuid()' },
    { name: 'email', type: 'character varying(255)', nullable: false, default: null },
    { name: 'username', type: 'character varying(100)', nullable: false, default: null },
    { name: 'hashed_password', type: 'character varying(255)', nullable: false, default: null },
    { name: 'is_active', type: 'boolean', nullable: false, default: 'true' },
    { name: 'created_at', type: 'timestamp with time zone', nullable: false, default: 'now()' },
    { name: 'updated_at', type: 'timestamp with time zone', nullable: false, default: 'now()' },
  ])
  const modelRuns = table('model_runs').columns
  t.same(modelRuns.map((column) => column.name).slice(0, 9),
    ['id', 'experiment_id', 'model_type', 'hyperparameters', 'metrics', 'training_time', 'created_at', 'status', 'metadata'],
    'the columns b2c3d4e5f6g7 added come after the first revision\'s, later revisions\' after them')
  t.same(modelRuns.find((column) => column.name === 'status'), { name: 'status', type: 'character varying(20)', nullable: false, default: "'pending'::character varying" })
  t.same(modelRuns.find((column) => column.name === 'training_time'), { name: 'training_time', type: 'double precision', nullable: true, default: null })
  t.same(table('generated_code').columns.find((column) => column.name === 'language')?.default, "'python'::character varying")
  t.same(table('preprocessing_steps').columns.slice(-2), [
    { name: 'is_active', type: 'boolean', nullable: false, default: 'true' },
    { name: 'fitted_transformer', type: 'bytea', nullable: true, default: null },
  ])
  t.same(table('alembic_version').columns, [{ name: 'version_num', type: 'character varying(32)', nullable: false, default: null }])
})

t.test('the named indexes, the primary keys among them', async (t) => {
  const btree = (name: string, column: string, unique: boolean, primary: boolean, definition: string) =>
    ({ name, columns: [column], unique, primary, method: 'btree', predicate: null, valid: true, definition })
  t.same(table('users').indexes, [
    btree('ix_users_email', 'email', true, false, 'CREATE UNIQUE INDEX ix_users_email ON public.users USING btree (email)'),
    btree('ix_users_username', 'username', true, false, 'CREATE UNIQUE INDEX ix_users_username ON public.users USING btree (username)'),
    btree('users_pkey', 'id', true, true, 'CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)'),
  ])
  t.same(table('model_runs').indexes.map(({ name, columns, unique, valid }) => [name, columns, unique, valid]), [
    ['ix_model_runs_created_at_id', ['created_at', 'id'], false, true],
    ['ix_model_runs_experiment_id', ['experiment_id'], false, true],
    ['ix_model_runs_experiment_id_created_at_id', ['experiment_id', 'created_at', 'id'], false, true],
    ['ix_model_runs_model_type_created_at_id', ['model_type', 'created_at', 'id'], false, true],
    ['ix_model_runs_status', ['status'], false, true],
    ['ix_model_runs_status_created_at_id', ['status', 'created_at', 'id'], false, true],
    ['ix_model_runs_task_id_created_at_id', ['task_id', 'created_at', 'id'], false, true],
    ['model_runs_pkey', ['id'], true, true],
  ], 'the indexes built CONCURRENTLY are valid')
  t.equal(table('model_runs').indexes.find((index) => index.name === 'ix_model_runs_status_created_at_id')?.definition,
    'CREATE INDEX ix_model_runs_status_created_at_id ON public.model_runs USING btree (status, created_at DESC, id DESC)', 'the definition keeps the order')
  t.same(table('preprocessing_steps').indexes.map((index) => index.name), [
    'ix_preprocessing_steps_dataset_id', 'ix_preprocessing_steps_dataset_id_order_id',
    'ix_preprocessing_steps_is_active', 'ix_preprocessing_steps_is_active_dataset_id_order_id', 'preprocessing_steps_pkey',
  ])
})

t.test('foreign keys with their targets and ON DELETE CASCADE', async (t) => {
  t.same(table('experiments').foreignKeys, [
    { name: 'experiments_dataset_id_fkey', columns: ['dataset_id'], target: { table: 'datasets', columns: ['id'] }, onDelete: 'CASCADE', onUpdate: 'NO ACTION', valid: true },
    { name: 'experiments_user_id_fkey', columns: ['user_id'], target: { table: 'users', columns: ['id'] }, onDelete: 'CASCADE', onUpdate: 'NO ACTION', valid: true },
  ])
  t.same(table('preprocessing_history').foreignKeys.map(({ name, columns, target, onDelete }) => [name, columns, target.table, onDelete]), [
    ['preprocessing_history_dataset_id_fkey', ['dataset_id'], 'datasets', 'CASCADE'],
    ['preprocessing_history_original_dataset_id_fkey', ['original_dataset_id'], 'datasets', 'CASCADE'],
    ['preprocessing_history_output_dataset_id_fkey', ['output_dataset_id'], 'datasets', 'CASCADE'],
  ])
  t.same(table('tuning_runs').foreignKeys.map((key) => `${key.columns.join()} -> ${key.target.table}(${key.target.columns.join()})`), ['model_run_id -> model_runs(id)'])
  t.same(table('users').foreignKeys, [])
})

t.test('check constraints, validated', async (t) => {
  const [check, ...others] = table('model_runs').checks
  t.same(others, [])
  t.equal(check?.name, 'ck_model_runs_status')
  t.equal(check?.valid, true, 'VALIDATE CONSTRAINT ran')
  for (const status of ['pending', 'running', 'completed', 'failed', 'cancelled']) t.match(check?.definition, `'${status}'`)
  t.match(check?.definition, /^CHECK \(.*status.* = ANY /)
  t.same(live.tables.filter((entry) => entry.name !== 'model_runs' && !entry.bookkeeping && entry.checks.length > 0), [], 'no other table has a check')
  t.same(table('aip_schema_operations').checks.map((entry) => entry.name).sort(), ['aip_schema_operations_kind_check', 'aip_schema_operations_status_paused'])
})

t.test('GET /schema and /schema/drift take the read scope, and any above it', async (t) => {
  for (const path of ['/schema', '/schema/drift']) {
    const none = await app.inject({ url: path })
    t.equal(none.statusCode, 401, `${path} without a token`)
    t.match(none.headers['content-type'], /^application\/problem\+json/)
    t.equal(none.json().type, 'unauthorized')
    t.equal((await app.inject({ url: path, headers: { authorization: 'Bearer not-a-token' } })).statusCode, 401, `${path} with an unknown token`)
    t.equal((await app.inject({ url: path, headers: { authorization: `Basic ${tokens.read}` } })).statusCode, 401, `${path} with no bearer token`)
    for (const scope of ['read', 'write', 'migrate', 'admin'] as const) {
      t.equal((await app.inject({ url: path, headers: bearer(scope) })).statusCode, 200, `${path} with the ${scope} scope`)
    }
  }
})
