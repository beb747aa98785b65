import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { lineRevision, revisionsDir, syntheticId } from '../../helpers/synthetic-revisions.js'
import { commitsIn, logVersionWrites, versionWrites } from '../../helpers/version-writes.js'
import { waitFor } from '../../helpers/wait.js'

// Revisions in a row share a transaction for up to the engine's default budget (50 ms); these
// show what happens to one that fails, runs long or waits on a lock inside it.
const longSleepSeconds = 1.5
const revisions = [
  lineRevision(1, ['CREATE TABLE hot (id int)'], ['DROP TABLE hot']),
  lineRevision(2, ['ALTER TABLE hot ADD COLUMN a int'], ['ALTER TABLE hot DROP COLUMN a']),
  lineRevision(3, [`SELECT pg_sleep(${longSleepSeconds})`], ['SELECT 1'], 'runs long'),
  lineRevision(4, ['CREATE TABLE after_long (id int)'], ['DROP TABLE after_long']),
  lineRevision(5, ['CREATE TABLE before_wait (id int)'], ['DROP TABLE before_wait']),
  lineRevision(6, ['ALTER TABLE hot ADD COLUMN b int'], ['ALTER TABLE hot DROP COLUMN b'], 'waits on a lock'),
  lineRevision(7, ['CREATE TABLE before_failure (id int)'], ['DROP TABLE before_failure']),
  lineRevision(8, ['SELECT 1 / 0'], ['SELECT 1'], 'fails'),
]

const url = await createTestDatabase(t, 'groups')
const db = testKnex(t, url)
await logVersionWrites(db)
const app = await buildTestApp(t, url, { migrationsDir: await revisionsDir(t, revisions), lockTimeoutMs: 10_000 })
const upgrade = (target: string) => app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target } })

t.test('a revision that runs past the budget runs alone, and the locks of the revisions before it are not held through it', async (t) => {
  t.equal((await upgrade(syntheticId(1))).statusCode, 200)
  await versionWrites(db)
  const upgrading = upgrade(syntheticId(4))
  await waitFor(async () => (await db.raw("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active'")).rows.length > 0)
  // Revision 2's ACCESS EXCLUSIVE lock on `hot`, were it held through revision 3, would keep this waiting for the whole sleep.
  const started = performance.now()
  await db.raw('SELECT count(*) FROM hot')
  const waitedMs = performance.now() - started
  t.ok(waitedMs < longSleepSeconds * 1000 / 3, `a reader of the table revision 2 altered waited ${Math.round(waitedMs)} ms, not the ${longSleepSeconds} s revision 3 runs`)
  const res = await upgrading
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((step: { revision: string }) => step.revision), [2, 3, 4].map(syntheticId))
  const { reached, chained } = commitsIn(await versionWrites(db), syntheticId(1))
  t.ok(chained, 'each commit replaces the revision the one before reached')
  t.same(reached, [2, 3, 4].map(syntheticId), 'revision 2 committed before revision 3 ran alone, and 4 after it')
  t.ok(res.json().steps[1].durationMs >= longSleepSeconds * 1000, 'the long revision ran whole')
})

t.test('a revision that waits on a lock inside a group runs alone, with the full lock_timeout', async (t) => {
  const holder = await db.client.acquireConnection()
  t.teardown(() => db.client.releaseConnection(holder))
  await db.raw('BEGIN; LOCK TABLE hot IN ACCESS SHARE MODE').connection(holder)
  const upgrading = upgrade(syntheticId(6))
  await waitFor(async () => (await db.raw("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'ALTER TABLE hot ADD COLUMN b%' AND wait_event_type = 'Lock'")).rows.length > 0)
  // Past the group's budget, so the waiting is the revision's own, under its own lock_timeout.
  await new Promise((resolve) => setTimeout(resolve, 300))
  await db.raw('COMMIT').connection(holder)
  const res = await upgrading
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((step: { revision: string, tries: number }) => [step.revision, step.tries]), [[syntheticId(5), 1], [syntheticId(6), 1]], 'no retry: it waited within one lock_timeout')
  t.same(commitsIn(await versionWrites(db), syntheticId(4)), { reached: [5, 6].map(syntheticId), chained: true }, 'revision 5 committed first')
  t.same((await db.raw("SELECT attname FROM pg_attribute WHERE attrelid = 'hot'::regclass AND attname = 'b'")).rows, [{ attname: 'b' }])
})

t.test('a revision that fails inside a group: the ones before it are kept, the failure is its own', async (t) => {
  const res = await upgrade('head')
  t.equal(res.statusCode, 500)
  t.match(res.json(), { type: /migration-failed/, revision: syntheticId(8), code: '22012' })
  t.same(await db('alembic_version').pluck('version_num'), [syntheticId(7)], 'at the last revision that completed')
  t.same(commitsIn(await versionWrites(db), syntheticId(6)), { reached: [syntheticId(7)], chained: true })
  t.ok((await db.raw("SELECT to_regclass('before_failure') AS t")).rows[0].t !== null, 'its table kept')
  const [operation] = (await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  t.match(operation, { status: 'failed', error: { revision: syntheticId(8), code: '22012' } })
  t.same(operation.steps.map((step: { revision: string }) => step.revision), [syntheticId(7)], 'the audit log holds the step that committed')
})
