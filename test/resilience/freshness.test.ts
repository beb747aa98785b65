import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { belowShippedHead as previous, shippedHead as head } from '../helpers/shipped.js'

t.test('a replica sees another replica migrate within a second, and pays no query per probe', async (t) => {
  const url = await createTestDatabase(t, 'freshness')
  const migrating = await buildTestApp(t, url, { instance: 'replica-a' })
  const watching = await buildTestApp(t, url, { instance: 'replica-b' })
  let queries = 0
  watching.knex.on('query', () => { queries += 1 })

  t.equal((await watching.inject({ method: 'GET', url: '/health/ready' })).statusCode, 503, 'not ready at base')

  t.equal((await upgrade(migrating, 'head')).statusCode, 200)
  const toHead = await timeUntil(watching, (current) => current.includes(head))
  t.comment(`upgrade by replica A seen by replica B after ${toHead} ms`)
  t.ok(toHead < 1000, `replica B shows the upgrade within 1 s (${toHead} ms)`)
  t.equal((await watching.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'replica B is ready')

  const reads = watching.schemaState.reads
  queries = 0
  const statuses = new Set<number>()
  for (let probe = 0; probe < 100; probe++) {
    statuses.add((await watching.inject({ method: 'GET', url: '/health/ready' })).statusCode)
    statuses.add((await watching.inject({ method: 'GET', url: '/migrations/current', headers: bearer('read') })).statusCode)
  }
  t.same([...statuses], [200], '200 probes of ready and current all answered 200')
  t.equal(queries, 0, 'and issued no query on the pool')
  t.ok(watching.schemaState.reads - reads <= 1, `and at most the periodic re-read of the state (${watching.schemaState.reads - reads})`)

  const downgraded = await migrating.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: '-1' } })
  t.equal(downgraded.statusCode, 200)
  const toPrevious = await timeUntil(watching, (current) => current.includes(previous))
  t.comment(`downgrade by replica A seen by replica B after ${toPrevious} ms`)
  t.ok(toPrevious < 1000, `replica B shows the downgrade within 1 s (${toPrevious} ms)`)
  const ready = await watching.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 503, 'replica B is no longer ready')
  t.match(ready.json(), { status: 'unready', database: { reachable: true }, schema: { current: [previous], upToDate: false, pending: 1 } })

  const own = await migrating.inject({ method: 'GET', url: '/migrations/current', headers: bearer('read') })
  t.same(own.json().current, [previous], 'the migrating replica answers from its own refreshed state at once')
})

t.test('a version written behind the service\'s back shows by the periodic re-read', async (t) => {
  const url = await createTestDatabase(t, 'freshness_net')
  const app = await buildTestApp(t, url, { database: { schemaStateRefreshMs: 300 } })
  t.equal((await upgrade(app, 'head')).statusCode, 200)
  const db = testKnex(t, url)
  // No NOTIFY: only the safety net can see this.
  await db('alembic_version').update({ version_num: previous })
  const seen = await timeUntil(app, (current) => current.includes(previous), 5000)
  t.comment(`silent change seen after ${seen} ms`)
  t.ok(seen < 3000, `seen within a few re-read periods (${seen} ms)`)
})

function upgrade (app: FastifyInstance, target: string) {
  return app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target } })
}

/** Polls `/migrations/current` every 10 ms; the milliseconds until `seen` held. */
async function timeUntil (app: FastifyInstance, seen: (current: string[]) => boolean, timeoutMs = 3000): Promise<number> {
  const started = performance.now()
  for (;;) {
    const res = await app.inject({ method: 'GET', url: '/migrations/current', headers: bearer('read') })
    if (res.statusCode === 200 && seen(res.json().current)) return Math.round(performance.now() - started)
    if (performance.now() - started > timeoutMs) throw new Error(`not seen within ${timeoutMs} ms: ${res.body}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
