import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { releaseDir } from '../../helpers/releases.js'
import { shippedHead } from '../../helpers/shipped.js'

// Two revisions on top of this build's head that need model_runs' ACCESS EXCLUSIVE lock.
const createDate = '2030-01-01T00:00:00.000Z'
const transactional = { revision: 'lockretry0001', downRevisions: [shippedHead], description: 'transactional probe', createDate, up: ['ALTER TABLE model_runs ADD COLUMN retry_probe int'], down: ['ALTER TABLE model_runs DROP COLUMN retry_probe'] }
const online = {
  revision: 'lockretry0002',
  downRevisions: ['lockretry0001'],
  description: 'online probe',
  createDate,
  transactional: false,
  // The INSERT shows whether statements before the one that failed were run again.
  up: ['CREATE TABLE IF NOT EXISTS retry_side (n int)', 'INSERT INTO retry_side VALUES (1)', 'ALTER TABLE model_runs ADD COLUMN IF NOT EXISTS online_probe int'],
  down: ['ALTER TABLE model_runs DROP COLUMN IF EXISTS online_probe', 'DROP TABLE IF EXISTS retry_side'],
}

const url = await createTestDatabase(t, 'lock_retries')
const db = testKnex(t, url)
const app = await buildTestApp(t, url, {
  migrationsDir: await releaseDir(t, { extra: [transactional, online] }),
  lockTimeoutMs: 200,
  lockRetries: 4,
  lockRetryBaseMs: 100,
})
const upgrade = (target: string) => app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target } })
t.equal((await upgrade(shippedHead)).statusCode, 200)

/** Another session reads model_runs in an open transaction for `ms` (forever when null), as live traffic would. */
async function holdModelRuns (ms: number | null): Promise<{ release: () => Promise<void>, pid: number }> {
  const connection = await db.client.acquireConnection()
  await db.raw("SET application_name = 'long-reader'").connection(connection)
  await db.raw('BEGIN').connection(connection)
  await db.raw('SELECT count(*) FROM model_runs').connection(connection)
  const { rows } = await db.raw('SELECT pg_backend_pid() AS pid').connection(connection)
  let released = false
  const release = async () => {
    if (released) return
    released = true
    await db.raw('ROLLBACK').connection(connection)
    await db.client.releaseConnection(connection)
  }
  if (ms !== null) setTimeout(() => { release().catch(() => undefined) }, ms)
  return { release, pid: rows[0].pid }
}

t.test('a revision blocked past lock_timeout by a short transaction succeeds on a later try', async (t) => {
  const holder = await holdModelRuns(700)
  t.teardown(holder.release)
  const res = await upgrade(transactional.revision)
  t.equal(res.statusCode, 200, 'upgraded')
  const [step] = res.json().steps
  t.equal(step.revision, transactional.revision)
  t.ok(step.tries > 1 && step.tries <= 5, `tried ${step.tries} times`)
  const [operation] = (await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  t.equal(operation.status, 'succeeded')
  t.equal(operation.steps[0].tries, step.tries, 'the tries are in the audit log')
})

t.test('an online revision is retried from the statement that failed', async (t) => {
  const holder = await holdModelRuns(700)
  t.teardown(holder.release)
  const res = await upgrade(online.revision)
  t.equal(res.statusCode, 200, 'upgraded')
  t.ok(res.json().steps[0].tries > 1)
  t.same(await db('retry_side').pluck('n'), [1], 'the statements before it ran once')
})

t.test('blocked past every try: the failure names the blocking session', async (t) => {
  t.equal((await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: shippedHead } })).statusCode, 200)
  const holder = await holdModelRuns(null)
  t.teardown(holder.release)
  const res = await upgrade(transactional.revision)
  await holder.release()
  t.equal(res.statusCode, 500)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const problem = res.json()
  t.match(problem, { type: 'migration-failed', revision: transactional.revision, code: '55P03', tries: 5 })
  t.match(problem.detail, /after 5 tries/)
  t.match(problem.detail, new RegExp(`blocked by pid ${holder.pid} \\(long-reader`))
  const [blocker] = problem.blockers
  t.match(blocker, { pid: holder.pid, applicationName: 'long-reader', state: 'idle in transaction', query: 'SELECT pg_backend_pid() AS pid' })
  t.ok(blocker.transactionAgeMs >= 200, 'how long its transaction had been open')
  const [operation] = (await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  t.match(operation, { status: 'failed', error: { kind: 'migration-failed', code: '55P03', tries: 5, blockers: [{ pid: holder.pid, applicationName: 'long-reader' }] } })
  t.same(await db('alembic_version').pluck('version_num'), [shippedHead], 'at the last revision that completed')
})
