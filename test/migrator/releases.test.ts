import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { upgradeAtStart } from '../../src/startup-upgrade.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createParents } from '../helpers/data.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { contractRevision, releaseDir } from '../helpers/releases.js'
import { belowShippedHead, shippedHead } from '../helpers/shipped.js'

// Two releases of the same build on one database: the older one's migrations directory lacks
// this build's newest revision; the newer one has it, and later a breaking revision on top.
const contract = contractRevision('contract00001', shippedHead)
const runs = 200_000

const url = await createTestDatabase(t, 'releases')
const db = testKnex(t, url)
const older = await buildTestApp(t, url, { instance: 'older', dataApi: true, migrationsDir: await releaseDir(t, { without: [shippedHead] }) })
const newer = await buildTestApp(t, url, { instance: 'newer', dataApi: true, migrationsDir: await releaseDir(t, { extra: [contract] }) })
const post = (app: FastifyInstance, path: string, payload: object, scope: 'migrate' | 'admin' = 'migrate') =>
  app.inject({ method: 'POST', url: path, headers: bearer(scope), payload })

const first = await post(older, '/migrations/upgrade', { target: 'head' })
if (first.statusCode !== 200 || first.json().to[0] !== belowShippedHead) throw new Error(`the older release could not bring the database to its head: ${first.body}`)
const { experimentId } = await createParents(older)
await db.raw(`INSERT INTO model_runs (experiment_id, model_type, status, created_at)
  SELECT ?, 'model-' || (n % 7), (ARRAY['pending', 'running', 'completed', 'failed'])[1 + n % 4], now() - n * interval '1 second'
  FROM generate_series(1, ?) AS n`, [experimentId, runs])
await db.raw('ANALYZE model_runs')

/** The older replica's traffic until `done`: reads, writes and probes, every answer's status kept. */
async function steadyTraffic (app: FastifyInstance, done: () => boolean): Promise<{ statuses: number[], readiness: number[], longestMs: number }> {
  const statuses: number[] = []
  const readiness: number[] = []
  let longestMs = 0
  while (!done()) {
    const started = performance.now()
    const answers = await Promise.all([
      app.inject({ url: '/model-runs?status=completed&limit=20', headers: bearer('read') }),
      app.inject({ url: `/model-runs?experimentId=${experimentId}&limit=20`, headers: bearer('read') }),
      app.inject({ method: 'POST', url: '/model-runs', headers: bearer('write'), payload: { experimentId, modelType: 'steady' } }),
    ])
    statuses.push(...answers.map((answer) => answer.statusCode))
    readiness.push((await app.inject({ url: '/health/ready' })).statusCode)
    longestMs = Math.max(longestMs, performance.now() - started)
  }
  return { statuses, readiness, longestMs }
}

t.test('while the newer release upgrades, the older one serves every request and stays ready', async (t) => {
  let upgraded = false
  const traffic = steadyTraffic(older, () => upgraded)
  const upgrade = await post(newer, '/migrations/upgrade', { target: shippedHead })
  upgraded = true
  t.equal(upgrade.statusCode, 200, 'upgraded')
  t.same(upgrade.json().steps.map((step: { revision: string }) => step.revision), [shippedHead])
  const { statuses, readiness, longestMs } = await traffic
  t.ok(statuses.length >= 3, `${statuses.length} requests during the upgrade; the longest round ${Math.round(longestMs)} ms`)
  t.same(statuses.filter((status) => status >= 300), [], 'every request answered 2xx')
  t.same(readiness.filter((status) => status !== 200), [], 'ready throughout')

  await older.schemaState.refresh()
  const ready = await older.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 200, 'ready behind a compatible newer release')
  t.match(ready.json().schema, { current: [shippedHead], upToDate: false, pending: 0, ahead: [shippedHead], breaking: [] })
  t.match((await older.inject({ url: '/migrations/current', headers: bearer('read') })).json(), { current: [shippedHead], ahead: [shippedHead], breaking: [], pending: [] })
})

t.test('the older release: upgrade passes with no steps, downgrade and stamp are refused', async (t) => {
  const upgrade = await post(older, '/migrations/upgrade', { target: 'head' })
  t.equal(upgrade.statusCode, 200)
  t.same(upgrade.json(), { from: [shippedHead], to: [shippedHead], dryRun: false, steps: [], ahead: [shippedHead] })
  t.equal(await upgradeAtStart(older), true, 'MIGRATE_ON_START: the older release starts and serves instead of retrying')
  const bare = await older.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate') })
  t.same(bare.json().steps, [], 'a bare upgrade too: the rolled-back release\'s Job passes')
  const submitted = await post(older, '/migrations/upgrade', { target: 'head', async: true })
  t.equal(submitted.statusCode, 202, 'asynchronously too')
  t.match(submitted.json(), { status: 'succeeded', from: [shippedHead], to: [shippedHead], stepsDone: 0, stepsTotal: 0 }, 'recorded finished at once, never running')
  const [recorded] = (await older.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  t.match(recorded, { kind: 'upgrade', status: 'succeeded', from: [shippedHead], to: [shippedHead], steps: [] }, 'recorded in the audit log')

  for (const [path, body] of [['/migrations/downgrade', { target: '-1' }], ['/migrations/stamp', { target: 'head' }]] as const) {
    const refused = await post(older, path, body, 'admin')
    t.equal(refused.statusCode, 409, path)
    t.match(refused.headers['content-type'], /^application\/problem\+json/)
    t.match(refused.json(), { type: 'database-ahead', ahead: [shippedHead] })
    t.match(refused.json().detail, new RegExp(`revisions this code does not: ${shippedHead}`))
  }
  t.same(await db('alembic_version').pluck('version_num'), [shippedHead], 'nothing moved')
  t.equal((await newer.inject({ url: '/health/ready' })).statusCode, 503, 'the newer release is not at its head yet')
})

t.test('a breaking revision lands: the older release turns unready within 2 s, the newer stays ready', async (t) => {
  const upgrade = await post(newer, '/migrations/upgrade', { target: 'head' })
  t.equal(upgrade.statusCode, 200, 'upgraded')
  const landed = performance.now()
  let ready = await older.inject({ url: '/health/ready' })
  while (ready.statusCode === 200 && performance.now() - landed < 2000) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    ready = await older.inject({ url: '/health/ready' })
  }
  t.equal(ready.statusCode, 503, `unready after ${Math.round(performance.now() - landed)} ms`)
  t.match(ready.json(), { status: 'unready', schema: { ahead: [contract.revision, shippedHead].sort(), breaking: [contract.revision] } })
  t.equal((await newer.inject({ url: '/health/ready' })).statusCode, 200)
  t.equal((await older.inject({ url: '/model-runs?limit=1', headers: bearer('read') })).statusCode, 200, 'the data API itself still answers while the pod is replaced')
})

t.test('a head nobody recorded is unknown: 503 and 409, as before', async (t) => {
  await db('alembic_version').update({ version_num: 'f00dbeef0000' })
  await older.schemaState.refresh()
  const ready = await older.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json().schema, { current: ['f00dbeef0000'], ahead: [] })
  const refused = await post(older, '/migrations/upgrade', { target: 'head' })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().type, 'database-state-mismatch')
  t.ok(refused.json().unknownRevisions.includes('f00dbeef0000'), 'the unrecorded head is named')
})
