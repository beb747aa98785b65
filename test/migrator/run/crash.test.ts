import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { startServer } from '../../helpers/server.js'
import { waitFor } from '../../helpers/wait.js'
import { shippedHead } from '../../helpers/shipped.js'

t.test('a service killed mid-migration leaves no trace of the half-done revision and no lock', async (t) => {
  const url = await createTestDatabase(t, 'crash')
  const db = testKnex(t, url)
  const server = await startServer({ DATABASE_URL: url, API_TOKENS: 'admin=crash-admin', MIGRATION_LOCK_TIMEOUT_MS: '600000' })
  t.teardown(() => server.stop('SIGKILL'))
  const upgrade = (target: string) => fetch(`${server.baseUrl}/migrations/upgrade`, {
    method: 'POST',
    headers: { authorization: 'Bearer crash-admin', 'content-type': 'application/json' },
    body: JSON.stringify({ target }),
  })
  t.equal((await upgrade('5c1b6116de51')).status, 200)

  // Another session holds datasets, so the next revision's CREATE TABLE (its foreign keys) waits on it.
  // That revision is transactional: the later ones build their indexes online, statement by statement.
  const blocker = await db.client.acquireConnection()
  await db.raw('BEGIN').connection(blocker)
  await db.raw('LOCK TABLE datasets IN ACCESS EXCLUSIVE MODE').connection(blocker)
  const pending = upgrade('head').catch(() => null)
  await waitFor(async () => {
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'CREATE TABLE preprocessing_history%'")
    return rows[0].n === 1
  })
  t.equal(await server.stop('SIGKILL'), null, 'killed while its migration waits')
  await pending
  await db.raw('ROLLBACK').connection(blocker)
  await db.client.releaseConnection(blocker)

  // The killed service's backends end once they notice their client is gone.
  await waitFor(async () => {
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'tap'  AND (query LIKE 'CREATE TABLE%' OR application_name LIKE 'aip-schema|%')")
    return rows[0].n === 0
  })
  t.same(await db('alembic_version').pluck('version_num'), ['5c1b6116de51'], 'at the previous revision')
  const history = await db.raw("SELECT to_regclass('preprocessing_history') IS NULL AS absent")
  t.equal(history.rows[0].absent, true, 'no trace of the half-done revision')
  t.same(await db('knex_migrations').orderBy('name').pluck('name'), ['5c1b6116de51'])
  const locks = await db.raw("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
  t.equal(locks.rows[0].n, 0, 'no advisory lock remains')

  const app = await buildTestApp(t, url, { lockWaitMs: 2_000 })
  const res = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(res.statusCode, 200, 'a new process upgrades to head')
  t.same(res.json().to, [shippedHead])
  const killed = await db('aip_schema_operations').where({ target: 'head' }).orderBy('started_at').first()
  t.match(killed, { status: 'failed', error: { kind: 'abandoned' } }, 'the killed operation is closed as failed, not running forever')
})
