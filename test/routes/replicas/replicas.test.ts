import { readFile } from 'node:fs/promises'
import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { contractRevision, releaseDir } from '../../helpers/releases.js'
import { belowShippedHead, shippedHead } from '../../helpers/shipped.js'
import type { RevisionDefinition } from '../../../src/migrator/index.js'
import { waitFor } from '../../helpers/wait.js'

interface Replica { instance: string, version: string, heads: string[], startedAt: string, lastSeenAt: string, state: string, reason: string | null }

const heartbeatMs = 200
const packageVersion = (JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
const url = await createTestDatabase(t, 'replicas')
const db = testKnex(t, url)
const app = await buildTestApp(t, url, { instance: 'replica-a', database: { replicaHeartbeatMs: heartbeatMs } })

async function replicas (on = app): Promise<Replica[]> {
  const response = await on.inject({ url: '/replicas', headers: bearer('read') })
  if (response.statusCode !== 200) throw new Error(`GET /replicas answered ${response.statusCode}: ${response.body}`)
  return (response.json() as { replicas: Replica[] }).replicas
}
const tableExists = async () => (await db.raw("SELECT to_regclass('aip_schema_replicas') IS NOT NULL AS found")).rows[0].found as boolean
const beats = (n: number) => new Promise((resolve) => setTimeout(resolve, heartbeatMs * n))

t.test('a database the service never migrated is not written to, and lists no replica', async (t) => {
  await beats(3)
  t.same(await replicas(), [])
  t.notOk(await tableExists(), 'no table made before the bookkeeping exists')
})

t.test('once migrated, the replica records itself with what its code knows and that it is ready', async (t) => {
  const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })
  t.equal(upgraded.statusCode, 200)
  await waitFor(async () => (await replicas()).some((replica) => replica.state === 'ready'), 5000)
  const [replica] = await replicas()
  const heads = (await app.inject({ url: '/migrations/heads', headers: bearer('read') })).json().heads.map((head: { revision: string }) => head.revision)
  t.match(replica, { instance: 'replica-a', version: packageVersion, heads, state: 'ready', reason: null })
  t.ok(replica !== undefined && Date.parse(replica.startedAt) <= Date.parse(replica.lastSeenAt), 'seen after it started')
  t.ok(await tableExists())
})

t.test('each heartbeat moves lastSeenAt, in one row', async (t) => {
  const [before] = await replicas()
  await waitFor(async () => (await replicas())[0]?.lastSeenAt !== before?.lastSeenAt, 5000)
  const [after] = await replicas()
  t.equal(after?.startedAt, before?.startedAt, 'the start is kept')
  t.equal((await db('aip_schema_replicas').count<Array<{ count: string }>>('* as count'))[0]?.count, '1')
})

t.test('an older release beside it shows as a second release, serving a database ahead of it', async (t) => {
  const older = await buildTestApp(t, url, { instance: 'replica-old', version: '0.0.9', migrationsDir: await releaseDir(t, { without: [shippedHead] }), database: { replicaHeartbeatMs: heartbeatMs } })
  const listed = await replicas()
  t.same(listed.map((replica) => [replica.instance, replica.version, replica.state]), [['replica-a', packageVersion, 'ready'], ['replica-old', '0.0.9', 'compatible-ahead']])
  const old = listed.find((replica) => replica.instance === 'replica-old')
  t.same(old?.heads, [belowShippedHead])
  t.match(old?.reason, new RegExp(`none breaking: ${shippedHead}$`))

  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, /aip_schema_replicas\{state="ready"\} 1\n/)
  t.match(metrics, /aip_schema_replicas\{state="compatible-ahead"\} 1\n/)
  t.match(metrics, /aip_schema_replicas\{state="unready"\} 0\n/)

  await older.close()
  t.same((await replicas()).map((replica) => replica.instance), ['replica-a'], 'a replica that closes is gone at once')
})

const contract = contractRevision('f0f0f0f0f0f0', shippedHead)

t.test("a newer release's breaking revision makes this replica unready, saying which", async (t) => {
  const newer = await buildTestApp(t, url, { instance: 'replica-new', version: '9.0.0', migrationsDir: await releaseDir(t, { extra: [contract] }), database: { replicaHeartbeatMs: heartbeatMs } })
  const upgraded = await newer.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })
  t.equal(upgraded.statusCode, 200)
  await waitFor(async () => (await replicas()).find((replica) => replica.instance === 'replica-a')?.state === 'unready', 5000)
  const listed = await replicas()
  t.match(listed.find((replica) => replica.instance === 'replica-a'), { state: 'unready', reason: /breaking revisions this release lacks: f0f0f0f0f0f0$/ })
  t.match(listed.find((replica) => replica.instance === 'replica-new'), { version: '9.0.0', heads: ['f0f0f0f0f0f0'], state: 'ready' })
})

t.test('a change of readiness is recorded at once, not at the next heartbeat', async (t) => {
  const heartbeat = { replicaHeartbeatMs: 60_000 }
  const patient = await buildTestApp(t, url, { instance: 'replica-patient', migrationsDir: await releaseDir(t, { extra: [contract] }), database: heartbeat })
  t.match((await replicas(patient)).find((replica) => replica.instance === 'replica-patient'), { state: 'ready' }, 'recorded at start')
  const expand: RevisionDefinition = { revision: 'e1e1e1e1e1e1', downRevisions: [contract.revision], description: 'an expansion older code lives with', createDate: '2030-02-01T00:00:00.000Z', up: ["COMMENT ON TABLE users IS 'expanded'"], down: ['COMMENT ON TABLE users IS NULL'] }
  const newest = await buildTestApp(t, url, { instance: 'replica-newest', migrationsDir: await releaseDir(t, { extra: [contract, expand] }), database: heartbeat })
  t.equal((await newest.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })).statusCode, 200)
  // Far sooner than the minute between heartbeats.
  await waitFor(async () => (await replicas(patient)).find((replica) => replica.instance === 'replica-patient')?.state === 'compatible-ahead', 10_000)
  t.pass('the patient replica says it serves a database ahead of it')
})

t.test('a replica missed for three heartbeats is not listed; one gone for a day is deleted', async (t) => {
  const row = { version: '0.0.1', heads: JSON.stringify(['x']), state: 'ready', started_at: db.raw("now() - interval '2 days'") }
  await db('aip_schema_replicas').insert([
    { ...row, instance: 'missed', last_seen_at: db.raw(`clock_timestamp() - make_interval(secs => ${(heartbeatMs * 3) / 1000 + 0.5})`) },
    { ...row, instance: 'long-gone', last_seen_at: db.raw("now() - interval '25 hours'") },
  ])
  t.notOk((await replicas()).some((replica) => ['missed', 'long-gone'].includes(replica.instance)))
  await waitFor(async () => (await db('aip_schema_replicas').where({ instance: 'long-gone' })).length === 0, 5000)
  t.same((await db('aip_schema_replicas').where({ instance: 'missed' }).pluck('instance')), ['missed'], 'kept until a day has passed')
})

t.test('reading the replicas needs a token', async (t) => {
  const anonymous = await app.inject({ url: '/replicas' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal((await app.inject({ url: '/replicas', headers: { authorization: 'Bearer nope' } })).statusCode, 401)
})

t.test('a database that stops answering: GET /replicas is a 503 problem, not a 500', async (t) => {
  const offline = await buildTestApp(t, 'postgres://postgres@127.0.0.1:1/nowhere', { instance: 'replica-offline', database: { poolAcquireTimeoutMs: 300 } })
  const response = await offline.inject({ url: '/replicas', headers: bearer('read') })
  t.equal(response.statusCode, 503)
  t.equal(response.json().type, 'database-unavailable')
})
