import { createHash, randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import knexFactory, { type Knex } from 'knex'
import { buildApp } from '../../src/app.js'
import { parseApiTokens } from '../../src/auth/tokens.js'
import { defaultDatabaseLimits } from '../../src/config.js'
import { loadRevisions, PooledMigrationConnectionError, RevisionGraph, SchemaMigrator } from '../../src/migrator/index.js'
import { poolGoesThroughTransactionPooler } from '../../src/database/pooler.js'
import { bearer, buildTestApp, tokens } from '../helpers/app.js'
import { runCli } from '../helpers/cli.js'
import { runServerToExit, startServer } from '../helpers/server.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { startPgBouncer } from '../helpers/pgbouncer.js'

const pooler = await startPgBouncer(t)
const graph = RevisionGraph.build(await loadRevisions())

function databaseOf (url: string): string {
  return new URL(url).pathname.slice(1)
}

/** Advisory locks held in `url`'s database by any session, read on the server itself. */
async function advisoryLocks (db: Knex): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(
    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
  )
  return rows[0]?.n ?? 0
}

/** The migration lock's (two keys, its class first); the job queue takes short transaction locks of its own. */
async function migrationLocks (db: Knex): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(
    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
  )
  return rows[0]?.n ?? 0
}

async function metric (app: FastifyInstance, name: string): Promise<string | undefined> {
  const body = (await app.inject({ url: '/metrics' })).body
  return body.split('\n').find((line) => line.startsWith(`${name} `))?.slice(name.length + 1)
}

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const started = performance.now()
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return Math.round(performance.now() - started)
}

function upgrade (app: FastifyInstance, payload: object = { target: 'heads' }) {
  return app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload })
}

async function ready (app: FastifyInstance): Promise<boolean> {
  return (await app.inject({ url: '/health/ready' })).statusCode === 200
}

t.test('the probe tells a transaction pooler from a direct connection, even with one server connection behind it', async (t) => {
  const url = await createTestDatabase(t, 'pooler_probe')
  const narrow = await startPgBouncer(t, { poolSize: 1 })
  const knexOn = (on: string) => {
    const knex = knexFactory({ client: 'pg', connection: on, pool: { min: 0, max: 2 } })
    t.teardown(() => knex.destroy())
    return knex
  }
  const direct = knexOn(url)
  await direct.raw('SELECT 1')
  let opened = 0
  const open = direct.client.acquireRawConnection.bind(direct.client)
  direct.client.acquireRawConnection = async () => { opened++; return await open() }
  t.equal(await poolGoesThroughTransactionPooler(direct), false, 'direct: not a pooler')
  t.equal(opened, 0, 'told by the cancel key alone, without a second connection')
  t.equal(await poolGoesThroughTransactionPooler(knexOn(pooler.pooled(url))), true, 'PgBouncer in transaction mode: a pooler')
  t.equal(await poolGoesThroughTransactionPooler(knexOn(narrow.pooled(url))), true, 'and with a single server connection, without waiting on itself')
})

t.test('through a busy transaction pooler the probe still sees it; a session pooler keeps the session', async (t) => {
  const url = await createTestDatabase(t, 'pooler_busy')
  const knexOn = (on: string, max: number) => {
    const knex = knexFactory({ client: 'pg', connection: on, pool: { min: 0, max } })
    t.teardown(() => knex.destroy())
    return knex
  }
  const traffic = knexOn(pooler.pooled(url), 8)
  const busy = new AbortController()
  const load = Promise.all(Array.from({ length: 8 }, async () => {
    while (!busy.signal.aborted) await traffic.raw('SELECT 1')
  }))
  const probe = knexOn(pooler.pooled(url), 2)
  const verdicts = []
  for (let i = 0; i < 20; i++) verdicts.push(await poolGoesThroughTransactionPooler(probe))
  busy.abort()
  await load
  t.same(verdicts, verdicts.map(() => true), '20 probes beside 8 busy clients: a pooler every time')

  const session = await startPgBouncer(t, { poolMode: 'session' })
  t.equal(await poolGoesThroughTransactionPooler(knexOn(session.pooled(url), 2)), false, 'PgBouncer in session mode: a client keeps its server, and its locks')
})

t.test('through the pooler with a direct MIGRATION_DATABASE_URL: 2 replicas × 10 concurrent upgrades', async (t) => {
  const url = await createTestDatabase(t, 'pooler_replicas')
  const db = testKnex(t, url)
  const options = { migrationDatabaseUrl: url }
  const replicas = [
    await buildTestApp(t, pooler.pooled(url), { ...options, instance: 'replica-a' }),
    await buildTestApp(t, pooler.pooled(url), { ...options, instance: 'replica-b' }),
  ]
  const watching = await buildTestApp(t, pooler.pooled(url), { ...options, instance: 'replica-c' })
  t.equal(await ready(watching), false, 'the watching replica is not ready at base')

  const answers = await Promise.all(replicas.flatMap((app) => Array.from({ length: 10 }, () => upgrade(app))))
  t.same(answers.map((res) => res.statusCode), Array(20).fill(200), 'all 20 upgrades answer 200')

  const steps = await db('aip_schema_operation_steps').join('aip_schema_operations', 'aip_schema_operations.id', 'aip_schema_operation_steps.operation')
    .where({ status: 'succeeded' }).select('step')
  const applied = steps.map((row: { step: { revision: string, direction: string } }) => `${row.step.direction} ${row.step.revision}`)
  t.same(applied.sort(), graph.all().map((revision) => `up ${revision.revision}`).sort(), 'each revision applied once, by one operation')
  t.same((await db('alembic_version').pluck('version_num')).sort(), [...graph.heads].sort(), 'the database is at the heads')
  t.equal(await advisoryLocks(db), 0, 'no advisory lock is left on any server session')

  const seen = await until('the watching replica turns ready', () => ready(watching))
  t.comment(`another replica's migration shown in readiness after ${seen} ms`)
  t.ok(seen < 1000, `within a second, by LISTEN on the direct connection (${seen} ms)`)
  t.equal(await metric(watching, 'aip_schema_migration_connection_pooled'), '0', 'the migration connection is direct')
  t.equal(await metric(watching, 'aip_schema_state_listening'), '1', 'and the schema state follows LISTEN')
})

t.test('the data flow goes through the pooler: create, list, patch, transformer bytes', async (t) => {
  const url = await createTestDatabase(t, 'pooler_data')
  const app = await buildTestApp(t, pooler.pooled(url), { migrationDatabaseUrl: url })
  t.equal((await upgrade(app)).statusCode, 200)
  const before = await pooler.transactions(databaseOf(url))

  const post = async (path: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url: path, headers: bearer('write'), payload })
    t.equal(res.statusCode, 201, `POST ${path}`)
    return res.json().id as string
  }
  const userId = await post('/users', { email: 'pooled@example.com', name: 'pooled' })
  const datasetId = await post('/datasets', { userId, name: 'pooled dataset' })
  const experimentId = await post('/experiments', { userId, datasetId, name: 'pooled experiment' })
  const runId = await post('/model-runs', { experimentId, modelType: 'xgboost' })
  const stepId = await post('/preprocessing-steps', { datasetId, stepType: 'scaler', order: 1 })

  const list = await app.inject({ url: `/model-runs?experimentId=${experimentId}`, headers: bearer('read') })
  t.same(list.json().items.map((run: { id: string }) => run.id), [runId], 'listed')
  const patched = await app.inject({ method: 'PATCH', url: `/model-runs/${runId}`, headers: bearer('write'), payload: { status: 'running', metadata: { task_id: 'pooled' } } })
  t.equal(patched.statusCode, 200)
  t.match(patched.json(), { status: 'running', metadata: { task_id: 'pooled' } }, 'patched')

  const blob = randomBytes(256 * 1024)
  const path = `/preprocessing-steps/${stepId}/fitted-transformer`
  const put = await app.inject({ method: 'PUT', url: path, headers: { ...bearer('write'), 'content-type': 'application/octet-stream' }, payload: blob })
  t.equal(put.statusCode, 204)
  const got = await app.inject({ url: path, headers: bearer('read') })
  t.ok(got.rawPayload.equals(blob), 'the transformer comes back byte for byte')
  t.equal(got.headers.etag, `"${createHash('sha256').update(blob).digest('hex')}"`)

  const carried = await until('the pooler counts the data transactions', async () => await pooler.transactions(databaseOf(url)) - before >= 9)
  t.comment(`pooler statistics caught up after ${carried} ms`)
  t.pass('the pooler carried the data queries')
})

t.test('a data query past its timeout is cancelled through the pooler too', async (t) => {
  const url = await createTestDatabase(t, 'pooler_timeout')
  const app = await buildTestApp(t, pooler.pooled(url), { migrationDatabaseUrl: url, database: { statementTimeoutMs: 500 } })
  t.equal((await upgrade(app)).statusCode, 200)
  const db = testKnex(t, url)
  const connection = await db.client.acquireConnection()
  await db.raw('BEGIN').connection(connection)
  await db.raw('LOCK TABLE users IN ACCESS EXCLUSIVE MODE').connection(connection)
  let locked = true
  const unlock = async () => {
    if (!locked) return
    locked = false
    await db.raw('ROLLBACK').connection(connection)
    await db.client.releaseConnection(connection)
  }
  t.teardown(unlock)

  const started = performance.now()
  const res = await app.inject({ url: '/users', headers: bearer('read') })
  const elapsed = Math.round(performance.now() - started)
  t.comment(`answered after ${elapsed} ms`)
  t.equal(res.statusCode, 503)
  t.match(res.json(), { type: 'database-timeout' })
  t.ok(elapsed >= 450 && elapsed < 5000, `cancelled near the timeout (${elapsed} ms)`)
  const waiting = await until('the cancelled query leaves the server', async () => {
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    return rows[0].n === 0
  }, 2000)
  t.comment(`server session free after ${waiting} ms`)
  t.pass('the statement was cancelled on the server, not only abandoned by the client')

  await unlock()
  t.equal((await app.inject({ url: '/users', headers: bearer('read') })).statusCode, 200, 'the next query runs')
})

t.test('with only the pooled URL: migrations refused, readiness still correct', async (t) => {
  const url = await createTestDatabase(t, 'pooler_only')
  const db = testKnex(t, url)
  let log = ''
  const app = await buildApp({
    databaseUrl: pooler.pooled(url),
    instance: 'pooled-only',
    logger: { level: 'warn', stream: new Writable({ write (chunk, _encoding, done) { log += String(chunk); done() } }) },
    config: {
      auth: { disabled: false, tokens: parseApiTokens(Object.entries(tokens).map(([scope, token]) => `${scope}=${token}`).join(',')) },
      lock: { waitMs: 5000, lockTimeoutMs: 5000 },
      fittedTransformerMaxBytes: 1024,
      database: { ...defaultDatabaseLimits, schemaStateRefreshMs: 200 },
    },
  })
  t.teardown(() => app.close())
  await app.ready()
  await until('the start-up probe is logged', async () => log.includes('transaction pooler'))

  for (const [path, scope, payload] of [
    ['/migrations/upgrade', 'migrate', { target: 'heads' }],
    ['/migrations/upgrade', 'migrate', { target: 'heads', async: true }],
    ['/migrations/upgrade', 'migrate', { target: 'heads', dryRun: true }],
    ['/migrations/downgrade', 'admin', { target: 'base' }],
    ['/migrations/stamp', 'admin', { target: 'heads' }],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: path, headers: bearer(scope), payload })
    t.equal(res.statusCode, 409, `${path} ${JSON.stringify(payload)}: 409`)
    t.match(res.json(), { type: 'pooled-migration-connection', setting: 'MIGRATION_DATABASE_URL', detail: /MIGRATION_DATABASE_URL/ })
  }
  t.equal(await migrationLocks(db), 0, 'no migration lock was taken through it')
  t.equal((await db.raw("SELECT to_regclass('users') AS users")).rows[0].users, null, 'nothing ran')

  const lines = log.trim().split('\n').map((line) => JSON.parse(line) as { msg: string })
  t.equal(lines.filter((line) => line.msg.includes('no migration runs through it')).length, 1, 'one log line at start says migrations are refused')
  t.equal(lines.filter((line) => line.msg.includes('LISTEN')).length, 1, 'one says LISTEN falls back to the periodic read')
  t.equal(await metric(app, 'aip_schema_migration_connection_pooled'), '1')
  t.equal(await metric(app, 'aip_schema_state_listening'), '0')

  t.equal(await ready(app), false, 'not ready at base')
  const direct = await buildTestApp(t, url, { instance: 'direct' })
  t.equal((await upgrade(direct)).statusCode, 200, 'a replica with a direct connection migrates')
  const seen = await until('the pooled-only replica turns ready', () => ready(app))
  t.comment(`seen by the periodic read after ${seen} ms`)
  const current = await app.inject({ url: '/migrations/current', headers: bearer('read') })
  t.same(current.json().current.sort(), [...graph.heads].sort(), 'and reports the heads')
})

t.test('the engine itself never takes the lock through a pooler, whatever its caller checked', async (t) => {
  const url = await createTestDatabase(t, 'pooler_engine')
  const knex = knexFactory({ client: 'pg', connection: pooler.pooled(url), pool: { min: 0, max: 2 } })
  t.teardown(() => knex.destroy())
  const silent = { info () {}, warn () {}, error () {} }
  const migrator = new SchemaMigrator({ knex, graph, instance: 'engine', lockWaitMs: 2000, lockTimeoutMs: 2000, logger: silent })
  await t.rejects(migrator.upgrade({ target: 'heads', actor: 'test' }), PooledMigrationConnectionError)
  const db = testKnex(t, url)
  t.equal(await advisoryLocks(db), 0, 'no advisory lock left')
  const failed = await db('aip_schema_operations').select('status', 'error')
  t.match(failed, [{ status: 'failed', error: { kind: 'pooled-migration-connection' } }], 'the refused operation is in the audit log')
})

t.test('the CLI migrates on MIGRATION_DATABASE_URL, and refuses a pooled DATABASE_URL alone', async (t) => {
  const url = await createTestDatabase(t, 'pooler_cli')
  const db = testKnex(t, url)
  const refused = await runCli(['upgrade', 'heads'], { DATABASE_URL: pooler.pooled(url) })
  t.equal(refused.code, 1, 'a failure')
  t.match(refused.stderr, /transaction pooler.*MIGRATION_DATABASE_URL/)
  t.equal(await advisoryLocks(db), 0)
  t.equal((await db.raw("SELECT to_regclass('users') AS users")).rows[0].users, null, 'nothing ran')

  const upgraded = await runCli(['upgrade', 'heads'], { DATABASE_URL: pooler.pooled(url), MIGRATION_DATABASE_URL: url })
  t.equal(upgraded.code, 0, upgraded.stderr)
  t.same((await db('alembic_version').pluck('version_num')).sort(), [...graph.heads].sort())
})

t.test('the server process: both URLs from the environment; with only the pooled one, MIGRATE_ON_START refuses to start', async (t) => {
  const url = await createTestDatabase(t, 'pooler_server')
  const env = { DATABASE_URL: pooler.pooled(url), AUTH_DISABLED: 'true', MIGRATE_ON_START: 'true' }
  const refused = await runServerToExit(env)
  t.equal(refused.code, 1)
  t.match(refused.output, /transaction pooler.*MIGRATION_DATABASE_URL/, 'says why, naming the variable')

  const server = await startServer({ ...env, MIGRATION_DATABASE_URL: url })
  t.teardown(() => server.stop())
  t.equal((await fetch(`${server.baseUrl}/health/ready`)).status, 200, 'migrated at start on the direct URL, and ready')
  t.match(await (await fetch(`${server.baseUrl}/metrics`)).text(), /^aip_schema_migration_connection_pooled 0$/m)
  t.equal(await server.stop(), 0)
})
