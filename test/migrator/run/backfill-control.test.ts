import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { releaseDir } from '../../helpers/releases.js'
import { shippedHead } from '../../helpers/shipped.js'
import { waitFor } from '../../helpers/wait.js'

// A table of its own on top of this build's head, and a backfill slow enough to stop part-way:
// the test trigger logs every row update (in the batch's transaction) and sleeps a little.
const rows = 3000
const createDate = '2030-01-01T00:00:00.000Z'
const table = {
  revision: 'backfill0001',
  downRevisions: [shippedHead],
  description: 'items to backfill',
  createDate,
  up: [
    'CREATE TABLE items (id bigint PRIMARY KEY, done boolean NOT NULL DEFAULT false)',
    'CREATE TABLE item_updates (id bigint NOT NULL)',
    `CREATE FUNCTION log_item_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO item_updates VALUES (NEW.id); PERFORM pg_sleep(0.0005); RETURN NULL; END $$`,
    'CREATE TRIGGER log_item_update AFTER UPDATE ON items FOR EACH ROW EXECUTE FUNCTION log_item_update()',
    `INSERT INTO items (id) SELECT g FROM generate_series(1, ${rows}) AS g`,
  ],
  down: ['DROP TABLE item_updates', 'DROP TABLE items', 'DROP FUNCTION log_item_update()'],
}
const backfill = {
  revision: 'backfill0002',
  downRevisions: ['backfill0001'],
  description: 'mark every item done',
  createDate,
  up: [{ backfill: { table: 'items', set: 'done = true', where: 'NOT done', batchSize: 50, targetBatchMs: 40, pauseMs: 20 } }],
  down: ['UPDATE items SET done = false'],
}

const url = await createTestDatabase(t, 'backfill_control')
const db = testKnex(t, url)
const app = await buildTestApp(t, url, { migrationsDir: await releaseDir(t, { extra: [table, backfill] }) })

async function post (path: string, payload?: object) {
  return app.inject({ method: 'POST', url: path, headers: bearer('migrate'), ...(payload === undefined ? {} : { payload }) })
}
async function operation (id: string) {
  return (await app.inject({ url: `/migrations/operations/${id}`, headers: bearer('read') })).json()
}
function backfillStep (op: { steps: Array<{ inProgress?: boolean, rowsDone?: number, rowsTotal?: number, rowsPerSecond?: number, etaMs?: number | null }> }) {
  return op.steps.find((step) => step.inProgress === true)
}
async function startBackfill (): Promise<string> {
  const res = await post('/migrations/upgrade', { target: 'backfill0002', async: true })
  t.equal(res.statusCode, 202)
  const id: string = res.json().id
  await waitFor(async () => (backfillStep(await operation(id))?.rowsDone ?? 0) > 0)
  return id
}
async function advisoryLocks (): Promise<number> {
  const { rows: [row] } = await db.raw("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
  return row.n
}

t.equal((await post('/migrations/upgrade', { target: 'backfill0001' })).statusCode, 200)

t.test('pause stops between batches and frees the lock; resume carries on from the checkpoint; every row updated once', async (t) => {
  const id = await startBackfill()
  const paused = await post(`/migrations/operations/${id}/pause`)
  t.equal(paused.statusCode, 200, 'pause answers the operation')
  t.equal(paused.json().id, id)
  await waitFor(async () => (await operation(id)).status === 'paused')
  t.equal(await advisoryLocks(), 0, 'the migration lock is freed')
  t.same(await db('alembic_version').pluck('version_num'), ['backfill0001'], 'the revision is not applied')
  const at = backfillStep(await operation(id))
  t.ok(at !== undefined && (at.rowsDone ?? 0) > 0 && (at.rowsDone ?? 0) < rows, `paused part-way (${at?.rowsDone} of ${rows})`)
  t.equal(at?.rowsTotal, rows, 'the estimate is the rows its predicate selected')
  const { rows: [done] } = await db.raw('SELECT count(*)::int AS n FROM items WHERE done')
  t.equal(done.n, at?.rowsDone, 'rows done as the checkpoint says')
  await new Promise((resolve) => setTimeout(resolve, 200))
  const { rows: [still] } = await db.raw('SELECT count(*)::int AS n FROM items WHERE done')
  t.equal(still.n, done.n, 'nothing runs while paused')

  t.equal((await post(`/migrations/operations/${id}/pause`)).json().type, 'not-pausable', 'a paused operation cannot be paused again')
  const resumed = await post(`/migrations/operations/${id}/resume`)
  t.equal(resumed.statusCode, 200, 'resume answers the operation')
  // Progress read while it runs never goes back.
  let last = at?.rowsDone ?? 0
  await waitFor(async () => {
    const now = await operation(id)
    const rowsDone = backfillStep(now)?.rowsDone
    if (rowsDone !== undefined) {
      t.ok(rowsDone >= last, `progress does not go back (${last} → ${rowsDone})`)
      last = rowsDone
    }
    return now.status === 'succeeded'
  })
  const finished = await operation(id)
  t.equal(finished.steps.at(-1).rowsDone, rows, 'the recorded step counts every row once, over both runs')
  t.notOk(backfillStep(finished), 'no step in progress once recorded')
  const { rows: [updates] } = await db.raw('SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM item_updates')
  t.same(updates, { n: rows, distinct_ids: rows }, 'every row updated exactly once')
  t.same(await db('alembic_version').pluck('version_num'), ['backfill0002'])
  t.equal((await db('aip_schema_backfills').count({ n: '*' }))[0]?.n, '0', 'the checkpoint is gone with the record')
})

t.test('cancel ends it as failed, the rows done stay, and a later upgrade resumes', async (t) => {
  t.equal((await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: 'backfill0001' } })).statusCode, 200)
  await db('item_updates').delete()
  const id = await startBackfill()
  const cancelled = await post(`/migrations/operations/${id}/cancel`)
  t.equal(cancelled.statusCode, 200)
  await waitFor(async () => (await operation(id)).status === 'failed')
  const failed = await operation(id)
  t.equal(failed.error.kind, 'backfill-stopped')
  t.equal(await advisoryLocks(), 0, 'the migration lock is freed')
  const { rows: [done] } = await db.raw('SELECT count(*)::int AS n FROM items WHERE done')
  t.ok(done.n > 0 && done.n < rows, `rows done stay done (${done.n})`)

  const again = await post('/migrations/upgrade', { target: 'backfill0002' })
  t.equal(again.statusCode, 200, 'a later upgrade finishes it')
  t.equal(again.json().steps[0].rowsDone, rows, 'counting the rows the cancelled run did')
  t.equal(again.json().steps[0].resumed, true)
  const { rows: [updates] } = await db.raw('SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM item_updates')
  t.same(updates, { n: rows, distinct_ids: rows }, 'every row updated exactly once')
  // Two full passes over the rows (the first test's and this one's), each row counted once per pass.
  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, `aip_schema_backfill_rows_total{revision="backfill0002",table="items"} ${2 * rows}`, '/metrics counts the rows done')
})

t.test('a paused operation overtaken by a later upgrade is closed, not left paused: the upgrade resumes its checkpoint', async (t) => {
  t.equal((await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: 'backfill0001' } })).statusCode, 200)
  await db('item_updates').delete()
  const id = await startBackfill()
  t.equal((await post(`/migrations/operations/${id}/pause`)).statusCode, 200)
  await waitFor(async () => (await operation(id)).status === 'paused')

  const later = await post('/migrations/upgrade', { target: 'backfill0002' })
  t.equal(later.statusCode, 200, 'the later upgrade runs')
  t.equal(later.json().steps[0].resumed, true, 'from the paused one\'s checkpoint')
  const overtaken = await operation(id)
  t.match(overtaken, { status: 'failed', error: { kind: 'overtaken', message: /took the migration on while this one was paused/ } })
  t.notOk(backfillStep(overtaken), 'no step left in progress')
  t.equal((await post(`/migrations/operations/${id}/resume`)).json().type, 'not-pausable', 'a resume of it is refused')
  const { rows: [updates] } = await db.raw('SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM item_updates')
  t.same(updates, { n: rows, distinct_ids: rows }, 'every row updated exactly once')
})

t.test('pause, resume and cancel of what is not a running backfill: 409 not-pausable; unknown: 404', async (t) => {
  const [done] = (await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  for (const action of ['pause', 'resume', 'cancel']) {
    const res = await post(`/migrations/operations/${done.id as string}/${action}`)
    t.equal(res.statusCode, 409, `${action} of a finished operation`)
    t.equal(res.json().type, 'not-pausable')
    t.equal((await post(`/migrations/operations/00000000-0000-4000-8000-000000000000/${action}`)).statusCode, 404, `${action} of an unknown one`)
  }
  const read = await app.inject({ method: 'POST', url: `/migrations/operations/${done.id as string}/pause`, headers: bearer('read') })
  t.equal(read.statusCode, 403, 'the read scope may not')
})
