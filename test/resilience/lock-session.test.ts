import t from 'tap'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { shippedHead } from '../helpers/shipped.js'

const instance = 'lock-session-test'

async function waitFor (condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('the revisions run on the session that holds the lock: if it dies, the migration stops with it', async (t) => {
  const url = await createTestDatabase(t, 'locksession')
  const app = await buildTestApp(t, url, { instance, lockTimeoutMs: 60_000 })
  const db = testKnex(t, url)
  const first = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'a1b2c3d4e5f6' } })
  t.equal(first.statusCode, 200)

  // Another session holds model_runs, so the next revision's ALTER TABLE waits where we can see it.
  const blocker = await db.client.acquireConnection()
  await db.raw('BEGIN').connection(blocker)
  await db.raw('LOCK TABLE model_runs IN ACCESS EXCLUSIVE MODE').connection(blocker)
  const upgrade = app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  const waiting = async () => (await db.raw<{ rows: Array<{ pid: number }> }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE model_runs%'")).rows
  await waitFor(async () => (await waiting()).length === 1)

  const { rows: holders } = await db.raw<{ rows: Array<{ pid: number, name: string }> }>(
    `SELECT l.pid, a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`)
  t.same(holders.map((holder) => holder.name), [`aip-schema|${instance}`], 'one session holds the migration lock, named for its instance')
  const holder = holders[0]?.pid ?? -1
  t.equal((await waiting())[0]?.pid, holder, 'and it is the session running the revision')

  await db.raw('SELECT pg_terminate_backend(?)', [holder])
  await db.raw('ROLLBACK').connection(blocker)
  await db.client.releaseConnection(blocker)

  const res = await upgrade
  t.equal(res.statusCode, 503, 'the migration stops: no other replica can be migrating beside it')
  t.match(res.json(), { type: 'database-unavailable', revision: 'b2c3d4e5f6g7' }, 'cut off, not failed on its SQL: a retry is the answer')
  t.same((await db('alembic_version').select('version_num')).map((row: { version_num: string }) => row.version_num), ['a1b2c3d4e5f6'], 'the version stays at the last revision that completed')
  t.notOk(await db.schema.hasColumn('model_runs', 'status'), 'the revision did not go on without the lock')
  const { rows: locks } = await db.raw("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
  t.equal(locks[0].n, 0, 'the lock is free')

  const again = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(again.statusCode, 200, 'the next upgrade, on a new session, reaches head')
  t.same(again.json().to, [shippedHead])
})
