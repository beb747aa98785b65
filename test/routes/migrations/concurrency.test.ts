import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { shippedHead, shippedRevisions } from '../../helpers/shipped.js'

t.test('20 concurrent upgrades through two instances apply each revision once', async (t) => {
  const url = await createTestDatabase(t, 'concurrency')
  const apps = [
    await buildTestApp(t, url, { instance: 'replica-a' }),
    await buildTestApp(t, url, { instance: 'replica-b' }),
  ]
  const responses = await Promise.all(Array.from({ length: 20 }, (_, index) => apps[index % 2]!.inject({
    method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' },
  })))
  t.same(responses.map((res) => res.statusCode), Array(20).fill(200), 'every call answers 200')
  const applied = responses.flatMap((res) => res.json().steps.map((step: { revision: string }) => step.revision))
  t.same(applied.sort(), [...shippedRevisions].sort(), 'each revision ran exactly once')

  const db = testKnex(t, url)
  t.same(await db('knex_migrations').orderBy('name').pluck('name'), [...shippedRevisions].sort())
  t.same(await db('alembic_version').pluck('version_num'), [shippedHead])
  const audit = await db('aip_schema_operations').select('status', 'instance')
  t.equal(audit.length, 20, 'every call is in the audit log')
  t.ok(audit.every((row: { status: string }) => row.status === 'succeeded'))
  t.equal((await db('aip_schema_operation_steps').count({ n: '*' }))[0]?.n, String(shippedRevisions.length), 'each step recorded once')
  t.same(new Set(audit.map((row: { instance: string }) => row.instance)), new Set(['replica-a', 'replica-b']))
  const locks = await db.raw("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
  t.equal(locks.rows[0].n, 0, 'no advisory lock is left')
})

t.test('a lock held elsewhere past the wait answers 409 naming the holder', async (t) => {
  const url = await createTestDatabase(t, 'lockwait')
  const holder = await buildTestApp(t, url, { instance: 'holder' })
  const waiter = await buildTestApp(t, url, { instance: 'waiter', lockWaitMs: 300 })
  const db = testKnex(t, url)
  // A lock taken on a session of our own stands for a replica in the middle of a long migration.
  const connection = await db.client.acquireConnection()
  t.teardown(() => db.client.releaseConnection(connection))
  await db.raw("SELECT set_config('application_name', 'aip-schema|other-replica', false)").connection(connection)
  await db.raw('SELECT pg_advisory_lock(1634300019, 1)').connection(connection)
  const started = Date.now()
  const res = await waiter.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: '+1' } })
  t.equal(res.statusCode, 409)
  t.ok(Date.now() - started >= 300, 'it waited MIGRATION_LOCK_WAIT_MS')
  t.match(res.json(), { type: 'lock-not-acquired', holder: { instance: 'other-replica' } })
  t.match(res.json().holder.since, /^\d{4}-\d\d-\d\dT/)
  const operations = (await holder.inject({ url: '/migrations/operations', headers: bearer('read') })).json().operations
  t.match(operations[0], { status: 'failed', error: { kind: 'lock-not-acquired' } })
  await db.raw('SELECT pg_advisory_unlock(1634300019, 1)').connection(connection)
  const retried = await waiter.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: '+1' } })
  t.equal(retried.statusCode, 200)
})
