import t from 'tap'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { statementsDuring } from '../helpers/statements.js'
import { syntheticId, syntheticRevisionsDir } from '../helpers/synthetic-revisions.js'

const n = 1000
const ids = Array.from({ length: n }, (_, offset) => syntheticId(offset + 1))

const url = await createTestDatabase(t, 'many_revisions')
const app = await buildTestApp(t, url, { migrationsDir: await syntheticRevisionsDir(t, n) })
const db = testKnex(t, url)

// Every row written to `alembic_version`, in order: the test's own trigger, on the engine's table.
await db.raw(`CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
  CREATE TABLE version_writes (id serial PRIMARY KEY, op text NOT NULL, version_num text NOT NULL);
  CREATE FUNCTION log_version_write() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO version_writes (op, version_num) VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.version_num ELSE NEW.version_num END);
    RETURN NULL;
  END $$;
  CREATE TRIGGER log_version_write AFTER INSERT OR UPDATE OR DELETE ON alembic_version FOR EACH ROW EXECUTE FUNCTION log_version_write()`)

async function versionWrites (): Promise<Array<{ op: string, version_num: string }>> {
  const rows = await db('version_writes').orderBy('id').select('op', 'version_num')
  await db('version_writes').delete()
  return rows
}

async function migrate (verb: 'upgrade' | 'downgrade', target: string) {
  const res = await app.inject({ method: 'POST', url: `/migrations/${verb}`, headers: bearer(verb === 'upgrade' ? 'migrate' : 'admin'), payload: { target } })
  if (res.statusCode !== 200) throw new Error(`${verb} ${target}: ${res.statusCode} ${res.body}`)
  const [latest] = (await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  const operation = await app.inject({ url: `/migrations/operations/${latest.id as string}`, headers: bearer('read') })
  return { result: res.json(), operation: operation.json() }
}

const count = async (table: string) => Number((await db(table).count({ n: '*' }))[0]?.n)

t.test(`base → head over ${n} revisions: one version row written per step, every step in the audit log`, async (t) => {
  const { result, operation } = await migrate('upgrade', 'head')
  t.equal(result.steps.length, n)
  t.same(result.to, app.migrator.graph.heads)
  const writes = await versionWrites()
  t.same(writes.filter((write) => write.op === 'INSERT').map((write) => write.version_num), ids, 'each step inserts its own revision, in order')
  t.same(writes.filter((write) => write.op === 'DELETE').map((write) => write.version_num), ids.slice(0, -1), 'and deletes the one it revises')
  t.equal(writes.length, 2 * n - 1, 'nothing else')
  t.same(await db('alembic_version').pluck('version_num'), app.migrator.graph.heads)
  t.equal(await count('aip_schema_revisions'), n, 'every checksum pinned')
  t.equal(await count('knex_migrations'), n, 'every revision listed')
  t.match(operation, { kind: 'upgrade', status: 'succeeded', to: app.migrator.graph.heads })
  t.same(operation.steps.map((step: { revision: string, direction: string }) => [step.revision, step.direction]), ids.map((id) => [id, 'up']), 'the audit log holds every step')
})

t.test('at head, the upgrade is the one-statement no-op', async (t) => {
  const before = await count('aip_schema_operations')
  const { result, operation } = await migrate('upgrade', 'head')
  t.same(result, { from: app.migrator.graph.heads, to: app.migrator.graph.heads, dryRun: false, steps: [], ahead: [] })
  t.match(operation, { status: 'succeeded', steps: [] })
  t.equal(await count('aip_schema_operations'), before + 1)
  t.same(await versionWrites(), [], 'the version is not written')
})

t.test(`the no-op upgrade sends the same one statement, byte for byte, at 4 revisions as at ${n}`, async (t) => {
  const smallUrl = await createTestDatabase(t, 'few_revisions')
  const small = await buildTestApp(t, smallUrl, { migrationsDir: await syntheticRevisionsDir(t, 4) })
  const upgrade = (on: typeof app) => on.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal((await upgrade(small)).statusCode, 200)
  // The second is the warm one: the first at head also sets the bookkeeping up in this process.
  await upgrade(small)
  await upgrade(app)
  const few = await statementsDuring(() => upgrade(small))
  const many = await statementsDuring(() => upgrade(app))
  t.equal(few.length, 1, 'one statement at 4 revisions')
  t.equal(many.length, 1, `one statement at ${n}`)
  t.equal(many[0]?.text, few[0]?.text, 'the same text')
  t.equal(many[0]?.bytes, few[0]?.bytes, 'the same bytes, values included')
  t.ok((many[0]?.bytes ?? Infinity) < 4096, 'small')
})

t.test(`head → base over ${n} revisions: one version row written per step, every step in the audit log`, async (t) => {
  const { result, operation } = await migrate('downgrade', 'base')
  t.equal(result.steps.length, n)
  t.same(result.to, [])
  const writes = await versionWrites()
  t.same(writes.filter((write) => write.op === 'DELETE').map((write) => write.version_num), [...ids].reverse(), 'each step deletes its own revision, newest first')
  t.same(writes.filter((write) => write.op === 'INSERT').map((write) => write.version_num), [...ids].reverse().slice(1), 'and inserts its parent')
  t.equal(writes.length, 2 * n - 1, 'nothing else')
  t.equal(await count('alembic_version'), 0)
  t.equal(await count('aip_schema_revisions'), 0, 'every checksum unpinned')
  t.equal(await count('knex_migrations'), 0, 'every revision unlisted')
  t.same((await db.raw("SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 't\\_%'")).rows[0].n, 0, 'every table dropped')
  t.match(operation, { kind: 'downgrade', status: 'succeeded', to: [] })
  t.same(operation.steps.map((step: { revision: string, direction: string }) => [step.revision, step.direction]), [...ids].reverse().map((id) => [id, 'down']), 'the audit log holds every step')
})
