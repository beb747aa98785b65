import { once } from 'node:events'
import type { Knex } from 'knex'
import t, { type Test } from 'tap'
import { bearer, buildTestApp } from './helpers/app.js'
import { createTestDatabase, testKnex } from './helpers/database.js'
import { startServer, type RunningServer } from './helpers/server.js'
import { waitFor } from './helpers/wait.js'

const token = 'shutdown-admin'
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

interface Blocked {
  readonly server: RunningServer
  readonly db: Knex
  /** The upgrade to head, answered once the shutdown has dealt with it. */
  readonly upgrade: Promise<Response>
  /** Ends the transaction that holds model_runs, so the migration's ALTER TABLE can go on. */
  unblock (): Promise<void>
}

/** A server at the first two revisions whose upgrade to head waits on a lock another session holds on model_runs. */
async function blockedUpgrade (t: Test, label: string, graceMs: number): Promise<Blocked> {
  const url = await createTestDatabase(t, label)
  const db = testKnex(t, url)
  const server = await startServer({ DATABASE_URL: url, API_TOKENS: `admin=${token}`, MIGRATION_LOCK_TIMEOUT_MS: '600000', SHUTDOWN_GRACE_MS: String(graceMs) })
  t.teardown(() => server.stop('SIGKILL'))
  const first = await fetch(`${server.baseUrl}/migrations/upgrade`, { method: 'POST', headers, body: JSON.stringify({ target: 'a1b2c3d4e5f6' }) })
  t.equal(first.status, 200)

  const blocker = await db.client.acquireConnection()
  let held = true
  const unblock = async (): Promise<void> => {
    if (!held) return
    held = false
    await db.raw('ROLLBACK').connection(blocker)
    await db.client.releaseConnection(blocker)
  }
  t.teardown(unblock)
  await db.raw('BEGIN').connection(blocker)
  await db.raw('LOCK TABLE model_runs IN ACCESS EXCLUSIVE MODE').connection(blocker)
  const upgrade = fetch(`${server.baseUrl}/migrations/upgrade`, { method: 'POST', headers, body: JSON.stringify({ target: 'head' }) })
  await waitFor(async () => {
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE model_runs%'")
    return rows[0].n === 1
  })
  return { server, db, upgrade, unblock }
}

/** A new request once SIGTERM has been handled: 503 problem+json. */
async function assertRefusesNewRequests (t: Test, server: RunningServer): Promise<void> {
  let res: Response | null = null
  await waitFor(async () => {
    res = await fetch(`${server.baseUrl}/migrations/current`, { headers })
    return res.status === 503
  })
  const refused = res as unknown as Response
  t.match(refused.headers.get('content-type'), /^application\/problem\+json/)
  t.match(await refused.json(), { type: 'shutting-down', status: 503, requestId: /^[\w-]+$/ }, 'a new request is refused while the migration ends')
}

async function assertNoAdvisoryLock (t: Test, db: Knex): Promise<void> {
  const locks = await db.raw("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
  t.equal(locks.rows[0].n, 0, 'no advisory lock remains on the database')
}

async function assertNothingLeft (t: Test, db: Knex): Promise<void> {
  await assertNoAdvisoryLock(t, db)
  const sessions = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'aip-schema%'")
  t.equal(sessions.rows[0].n, 0, 'the service closed its sessions')
}

async function columnExists (db: Knex, table: string, column: string): Promise<boolean> {
  const { rows } = await db.raw('SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = ? AND column_name = ?', [table, column])
  return rows[0].n === 1
}

t.test('SIGTERM mid-migration: the revision under way finishes, nothing after it starts, exit 0', async (t) => {
  const { server, db, upgrade, unblock } = await blockedUpgrade(t, 'shutdown_finish', 60_000)
  const signalled = performance.now()
  server.child.kill('SIGTERM')
  await assertRefusesNewRequests(t, server)

  await unblock()
  const answered = await upgrade
  t.equal(answered.status, 503, 'the upgrade stops after the revision under way')
  t.match(await answered.json(), { type: 'shutting-down', stoppedBefore: 'c3d4e5f6g7h8' })
  t.equal(await exitCode(server), 0, 'exit code 0')
  t.comment(`SIGTERM to exit: ${Math.round(performance.now() - signalled)} ms`)

  t.same(await db('alembic_version').pluck('version_num'), ['b2c3d4e5f6g7'], 'at the next revision')
  t.ok(await columnExists(db, 'model_runs', 'status'), 'the revision under way is wholly applied')
  t.notOk(await columnExists(db, 'preprocessing_steps', 'is_active'), 'the one after it never started')
  const operation = await db('aip_schema_operations').where({ target: 'head' }).first()
  t.match(operation, { status: 'failed', error: { kind: 'shutting-down' } }, 'the audit log says why it stopped')
  await assertNothingLeft(t, db)
})

t.test('SIGTERM mid-migration past the grace period: the statement under way is cancelled, nothing of its revision stays, exit 0', async (t) => {
  const graceMs = 1000
  const { server, db, upgrade } = await blockedUpgrade(t, 'shutdown_rollback', graceMs)
  const signalled = performance.now()
  server.child.kill('SIGTERM')
  await assertRefusesNewRequests(t, server)

  const answered = await upgrade
  t.equal(answered.status, 503, 'the upgrade is cut off, still as a shutdown')
  t.match(await answered.json(), { type: 'shutting-down', stoppedBefore: 'b2c3d4e5f6g7' })
  t.equal(await exitCode(server), 0, 'exit code 0 while the blocking session still holds its lock')
  const elapsed = performance.now() - signalled
  t.ok(elapsed >= graceMs, 'the grace period was given')
  t.comment(`SIGTERM to exit with a ${graceMs} ms grace period: ${Math.round(elapsed)} ms`)
  t.match(server.output(), /shutdown grace period over/)

  t.same(await db('alembic_version').pluck('version_num'), ['a1b2c3d4e5f6'], 'at the previous revision')
  t.notOk(await columnExists(db, 'model_runs', 'status'), 'nothing of the rolled-back revision')
  t.same(await db('knex_migrations').orderBy('name').pluck('name'), ['5c1b6116de51', 'a1b2c3d4e5f6'])
  await assertNothingLeft(t, db)
})

t.test('drain in process: an async migration past the grace period is cancelled, its operation says why', async (t) => {
  const url = await createTestDatabase(t, 'shutdown_drain')
  const db = testKnex(t, url)
  const app = await buildTestApp(t, url, { lockTimeoutMs: 600_000 })
  t.equal((await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'a1b2c3d4e5f6' } })).statusCode, 200)
  const blocker = await db.client.acquireConnection()
  t.teardown(() => db.client.releaseConnection(blocker))
  await db.raw('BEGIN').connection(blocker)
  await db.raw('LOCK TABLE model_runs IN ACCESS EXCLUSIVE MODE').connection(blocker)
  const queued = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { async: true } })
  t.equal(queued.statusCode, 202)
  await waitFor(async () => {
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name LIKE 'aip-schema|%'")
    return rows[0].n === 1
  })

  const drained = app.drain(200)
  const refused = await app.inject({ url: '/health/live' })
  t.equal(refused.statusCode, 503, 'even liveness: the instance is going away')
  t.equal(refused.headers.connection, 'close')
  t.match(refused.json(), { type: 'shutting-down' })
  await drained
  await db.raw('ROLLBACK').connection(blocker)

  const operation = await db('aip_schema_operations').where({ id: queued.json<{ id: string }>().id }).first()
  t.match(operation, { status: 'failed', error: { kind: 'shutting-down' } })
  t.same(await db('alembic_version').pluck('version_num'), ['a1b2c3d4e5f6'], 'at the revision before')
  t.notOk(await columnExists(db, 'model_runs', 'status'))
  await assertNoAdvisoryLock(t, db)
})

/** The exit code of a server that was signalled once already: a second SIGTERM would force exit 1. */
async function exitCode ({ child }: RunningServer): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  return child.exitCode
}
