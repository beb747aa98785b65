import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { seedRevisions, shippedHead as head, shippedRevisions } from '../../helpers/shipped.js'

const seedHead = seedRevisions[3]

t.test('a clean database is in sync at base and at every revision', async (t) => {
  const url = await createTestDatabase(t, 'drift_clean')
  const app = await buildTestApp(t, url)
  const drift = async () => (await app.inject({ url: '/schema/drift', headers: bearer('read') })).json()
  t.same(await drift(), { revision: null, inSync: true, differences: [], sql: { up: [], down: [] } }, 'base, before the engine has made any table')
  for (const revision of shippedRevisions) {
    const step = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: '+1' } })
    t.equal(step.statusCode, 200)
    t.same(await drift(), { revision, inSync: true, differences: [], sql: { up: [], down: [] } }, revision)
  }
  const down = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: 'base' } })
  t.equal(down.statusCode, 200)
  t.same(await drift(), { revision: null, inSync: true, differences: [], sql: { up: [], down: [] } }, 'base again, the bookkeeping tables left out')
})

t.test('at head, each manual change shows up exactly, and nothing else', async (t) => {
  const url = await createTestDatabase(t, 'drift_manual')
  const app = await buildTestApp(t, url)
  const db = testKnex(t, url)
  t.equal((await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })).statusCode, 200)
  const drift = async () => {
    const response = await app.inject({ url: '/schema/drift', headers: bearer('read') })
    t.equal(response.statusCode, 200)
    return response.json()
  }

  await db.raw('ALTER TABLE model_runs ADD COLUMN notes text')
  t.same(await drift(), {
    revision: head,
    inSync: false,
    differences: [{
      kind: 'extra',
      object: 'column',
      table: 'model_runs',
      name: 'notes',
      expected: null,
      actual: { name: 'notes', type: 'text', nullable: true, default: null },
      detail: 'column model_runs.notes is not in the expected schema',
    }],
    sql: { up: ['ALTER TABLE model_runs ADD COLUMN notes text'], down: ['ALTER TABLE model_runs DROP COLUMN notes'] },
  }, 'an added column, with the SQL a revision recording it would run')
  await db.raw('ALTER TABLE model_runs DROP COLUMN notes')
  t.same(await drift(), { revision: head, inSync: true, differences: [], sql: { up: [], down: [] } }, 'and in sync once it is gone')

  await db.raw('DROP INDEX ix_users_email')
  t.same(await drift(), {
    revision: head,
    inSync: false,
    differences: [{
      kind: 'missing',
      object: 'index',
      table: 'users',
      name: 'ix_users_email',
      expected: {
        name: 'ix_users_email',
        columns: ['email'],
        unique: true,
        primary: false,
        method: 'btree',
        predicate: null,
        valid: true,
        definition: 'CREATE UNIQUE INDEX ix_users_email ON public.users USING btree (email)',
      },
      actual: null,
      detail: 'index ix_users_email on users is missing',
    }],
    sql: {
      up: ['ALTER TABLE users DROP CONSTRAINT IF EXISTS ix_users_email', 'DROP INDEX CONCURRENTLY IF EXISTS ix_users_email'],
      down: [`DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('ix_users_email') AND NOT indisvalid) THEN
        DROP INDEX ix_users_email;
      END IF;
    END $$`, 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_users_email ON users USING btree (email)'],
    },
  }, 'a dropped index')
  await db.raw('CREATE UNIQUE INDEX ix_users_email ON users (email)')

  await db.raw("ALTER TABLE generated_code ALTER COLUMN language SET DEFAULT 'java'")
  t.same(await drift(), {
    revision: head,
    inSync: false,
    differences: [{
      kind: 'changed',
      object: 'default',
      table: 'generated_code',
      name: 'language',
      expected: "'python'::character varying",
      actual: "'java'::character varying",
      detail: "column generated_code.language has default 'java'::character varying, expected 'python'::character varying",
    }],
    sql: {
      up: ["ALTER TABLE generated_code ALTER COLUMN language SET DEFAULT 'java'::character varying"],
      down: ["ALTER TABLE generated_code ALTER COLUMN language SET DEFAULT 'python'::character varying"],
    },
  }, 'a changed default')
  await db.raw("ALTER TABLE generated_code ALTER COLUMN language SET DEFAULT 'python'")

  await db.raw('ALTER TABLE preprocessing_history DROP CONSTRAINT preprocessing_history_output_dataset_id_fkey')
  await db.raw('ALTER TABLE model_runs ALTER COLUMN training_time SET NOT NULL')
  await db.raw('CREATE TABLE scratch (id int)')
  t.same((await drift()).differences.map(({ kind, object, table, name }: Record<string, string>) => `${kind} ${object} ${table}.${name}`), [
    'changed nullability model_runs.training_time',
    'missing foreignKey preprocessing_history.preprocessing_history_output_dataset_id_fkey',
    'extra table scratch.scratch',
  ], 'several at once, table by table')
})

t.test("a database Alembic brought to the seed's head is in sync, though pg_dump deparses its CHECK differently", async (t) => {
  const url = await createTestDatabase(t, 'drift_alembic')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(await readFile(new URL('../../fixtures/alembic-schema-at-head.sql', import.meta.url), 'utf8'))
  await client.query('INSERT INTO public.alembic_version (version_num) VALUES ($1)', [seedHead])
  await client.end()
  const app = await buildTestApp(t, url)
  t.same((await app.inject({ url: '/schema/drift', headers: bearer('read') })).json(), { revision: seedHead, inSync: true, differences: [], sql: { up: [], down: [] } })
  t.equal((await testKnex(t, url).raw("SELECT to_regclass('knex_migrations') IS NULL AS absent")).rows[0].absent, true, 'checking drift wrote nothing')
})

t.test('when drift cannot be measured: a clear 409, never a 500', async (t) => {
  const url = await createTestDatabase(t, 'drift_unmeasurable')
  const app = await buildTestApp(t, url, { migrationsDir: fileURLToPath(new URL('../../fixtures/branched-revisions/', import.meta.url)) })
  const upgrade = async (target: string) =>
    t.equal((await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target } })).statusCode, 200, `upgrade ${target}`)
  const drift = async () => {
    const response = await app.inject({ url: '/schema/drift', headers: bearer('read') })
    t.equal(response.statusCode, 409)
    t.match(response.headers['content-type'], /^application\/problem\+json/)
    return response.json()
  }

  await upgrade('left00000000')
  await upgrade('right0000000')
  t.match(await drift(), {
    type: 'drift-needs-one-revision',
    status: 409,
    heads: ['left00000000', 'right0000000'],
    detail: /several heads \(left00000000, right0000000\).*merge them/,
  }, 'two unmerged heads')

  await upgrade('merge0000000')
  t.match(await drift(), {
    type: 'schema-snapshot-missing',
    status: 409,
    revision: 'merge0000000',
    detail: /no schema snapshot for revision merge0000000: run `npm run schema:snapshots`/,
  }, 'a known revision with no snapshot (this build ships snapshots of its own revisions only)')

  await testKnex(t, url).raw("UPDATE alembic_version SET version_num = 'ffffffffffff'")
  t.match(await drift(), { type: 'database-state-mismatch', unknownRevisions: ['ffffffffffff'] }, 'a revision the code does not know')
})
