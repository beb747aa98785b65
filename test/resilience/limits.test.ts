import t from 'tap'
import type { Knex } from 'knex'
import { bearer } from '../helpers/app.js'
import { buildDataApp, post } from '../helpers/data.js'

/** Another session holds `users` exclusively, so every query on it waits. */
async function lockUsers (db: Knex): Promise<() => Promise<void>> {
  const connection = await db.client.acquireConnection()
  await db.raw('BEGIN').connection(connection)
  await db.raw('LOCK TABLE users IN ACCESS EXCLUSIVE MODE').connection(connection)
  return async () => {
    await db.raw('ROLLBACK').connection(connection)
    await db.client.releaseConnection(connection)
  }
}

async function waitingOnLock (db: Knex): Promise<number> {
  const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%from \"users\"%'")
  return rows[0].n
}

t.test('a data query past DATA_STATEMENT_TIMEOUT_MS answers 503 and frees its connection', async (t) => {
  const { app, db } = await buildDataApp(t, 'slow', { database: { statementTimeoutMs: 500 } })
  await post(app, '/users', { email: 'slow@example.com', name: 'slow' })
  const unlock = await lockUsers(db)
  t.teardown(unlock)

  const started = performance.now()
  const res = await app.inject({ method: 'GET', url: '/users', headers: bearer('read') })
  const elapsed = Math.round(performance.now() - started)
  t.comment(`slow query answered after ${elapsed} ms`)
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), { type: 'database-timeout', status: 503 })
  t.ok(elapsed >= 450 && elapsed < 5000, `cancelled near the timeout (${elapsed} ms)`)
  t.equal(await waitingOnLock(db), 0, 'the cancelled query no longer holds a session')

  await unlock()
  const after = await app.inject({ method: 'GET', url: '/users', headers: bearer('read') })
  t.equal(after.statusCode, 200, 'the next query runs')
  t.equal(after.json().items.length, 1)
})

t.test('an exhausted pool answers 503 within DATABASE_POOL_ACQUIRE_TIMEOUT_MS while probes keep answering', async (t) => {
  const { app, db } = await buildDataApp(t, 'pool', { database: { statementTimeoutMs: 20_000, poolAcquireTimeoutMs: 500 } })
  // Ten connections opened beforehand: on a loaded machine opening them could itself outlast the 500 ms.
  for (let attempt = 0; ; attempt++) {
    const warm = await Promise.all(Array.from({ length: 10 }, () => app.inject({ method: 'GET', url: '/users', headers: bearer('read') })))
    if (warm.every((res) => res.statusCode === 200)) break
    if (attempt === 5) throw new Error('the pool could not be filled')
  }
  const unlock = await lockUsers(db)
  t.teardown(unlock)

  // The pool holds 10 connections: 10 requests stuck behind the lock take them all.
  const stuck = Array.from({ length: 10 }, () => app.inject({ method: 'GET', url: '/users', headers: bearer('read') }))
  const deadline = Date.now() + 20_000
  while (await waitingOnLock(db) < 10) {
    if (Date.now() > deadline) throw new Error('the pool did not fill up')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const started = performance.now()
  const rejected = await app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email: 'late@example.com', name: 'late' } })
  const elapsed = Math.round(performance.now() - started)
  t.comment(`a request on the exhausted pool answered after ${elapsed} ms`)
  t.equal(rejected.statusCode, 503)
  t.match(rejected.json(), { type: 'database-unavailable', status: 503 })
  t.ok(elapsed >= 450 && elapsed < 5000, `after about the acquire timeout (${elapsed} ms)`)

  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200, 'live')
  t.equal((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready, from the cached state')
  const current = await app.inject({ method: 'GET', url: '/migrations/current', headers: bearer('read') })
  t.equal(current.statusCode, 200, 'current, from the cached state')
  t.equal(current.json().upToDate, true)

  await unlock()
  const answers = await Promise.all(stuck)
  t.same(answers.map((res) => res.statusCode), Array(10).fill(200), 'the waiting requests complete once the lock goes')
  t.equal(await db('users').where({ email: 'late@example.com' }).first(), undefined, 'the rejected write did nothing')
})
