import t from 'tap'
import { bearer, buildTestApp } from '../helpers/app.js'
import { snapshotCatalog } from '../helpers/catalog.js'
import listIndexes from '../../src/migrations/505acae0b257_add_keyset_indexes_for_the_data_lists.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { afterSeed, seedRevisions, shippedHead } from '../helpers/shipped.js'

const [, r2, r3, r4] = seedRevisions
const r5 = listIndexes.revision

const url = await createTestDatabase(t, 'online')
// The lock timeouts are the point here, not the waits between the tries after one (5 by default,
// 0.5 s doubling: 15 s a failure); test/migrations/lock-retries.test.ts times those.
const app = await buildTestApp(t, url, { lockTimeoutMs: 500, lockRetryBaseMs: 10 })
const db = testKnex(t, url)

function migrate (verb: 'upgrade' | 'downgrade', target: string) {
  return app.inject({ method: 'POST', url: `/migrations/${verb}`, headers: bearer('admin'), payload: { target } })
}
async function versionTable (): Promise<string[]> {
  return db('alembic_version').pluck('version_num')
}
async function invalidIndexes (): Promise<string[]> {
  const { rows } = await db.raw<{ rows: Array<{ name: string }> }>('SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid ORDER BY 1')
  return rows.map((row) => row.name)
}
async function unvalidatedConstraints (): Promise<string[]> {
  const { rows } = await db.raw<{ rows: Array<{ name: string }> }>('SELECT conname AS name FROM pg_constraint WHERE NOT convalidated ORDER BY 1')
  return rows.map((row) => row.name)
}
/** A transaction holding a snapshot: CREATE INDEX CONCURRENTLY waits for it to end, and nothing else does. */
async function openSnapshot (): Promise<{ end: () => Promise<void> }> {
  const connection = await db.client.acquireConnection()
  await db.raw('BEGIN ISOLATION LEVEL REPEATABLE READ').connection(connection)
  await db.raw('SELECT count(*) FROM users').connection(connection)
  return {
    end: async () => {
      await db.raw('COMMIT').connection(connection)
      await db.client.releaseConnection(connection)
    },
  }
}

const upgraded = await migrate('upgrade', 'head')
if (upgraded.statusCode !== 200) throw new Error(`upgrade failed: ${upgraded.body}`)
const head = await snapshotCatalog(db)

t.test('the revisions that alter big tables run outside a transaction and leave everything valid', async (t) => {
  for (const revision of [r3, r4, r5]) {
    const res = await app.inject({ url: `/migrations/revisions/${revision}`, headers: bearer('read') })
    t.equal(res.json().transactional, false, `${revision} is not transactional`)
  }
  t.same(await invalidIndexes(), [])
  t.same(await unvalidatedConstraints(), [])
})

t.test('an index build that fails part-way (lock_timeout) is healed by running the revision again', async (t) => {
  t.equal((await migrate('downgrade', r2)).statusCode, 200)
  const snapshot = await openSnapshot()
  const failed = await migrate('upgrade', r3)
  await snapshot.end()
  t.equal(failed.statusCode, 500, 'lock_timeout applies to the concurrent build, which would otherwise wait forever')
  t.match(failed.json(), { type: 'migration-failed', revision: r3, code: '55P03' })
  t.same(await versionTable(), [r2], 'the version stays at the last revision that completed')
  t.same(await invalidIndexes(), ['ix_model_runs_status'], 'the failed build left an invalid index behind')
  t.same(await unvalidatedConstraints(), [], 'the statements before it did complete')

  const again = await migrate('upgrade', 'head')
  t.equal(again.statusCode, 200, 'running it again completes')
  t.same(again.json().steps.map((step: { revision: string }) => step.revision), [r3, r4, ...afterSeed])
  t.same(await invalidIndexes(), [])
  t.same(await snapshotCatalog(db), head, 'the very schema a clean run produces')
})

t.test('a revision interrupted after any of its statements completes when run again', async (t) => {
  t.equal((await migrate('downgrade', r2)).statusCode, 200)
  const up = (await import('../../src/migrations/b2c3d4e5f6g7_add_status_metadata_to_model_runs.js')).default.up
  for (let done = 1; done < up.length; done++) {
    for (const statement of up.slice(0, done)) await db.raw(statement)
    const res = await migrate('upgrade', r3)
    t.equal(res.statusCode, 200, `after ${done} of ${up.length} statements`)
    t.same(await versionTable(), [r3])
    t.equal((await migrate('downgrade', r2)).statusCode, 200)
  }
  t.equal((await migrate('upgrade', 'head')).statusCode, 200)
  t.same(await snapshotCatalog(db), head)
})

t.test('lock_timeout stops the first ALTER TABLE queueing behind live traffic', async (t) => {
  t.equal((await migrate('downgrade', r2)).statusCode, 200)
  const reader = await db.client.acquireConnection()
  await db.raw('BEGIN').connection(reader)
  await db.raw('SELECT count(*) FROM model_runs').connection(reader)
  const started = performance.now()
  const failed = await migrate('upgrade', 'head')
  const waitedMs = performance.now() - started
  await db.raw('ROLLBACK').connection(reader)
  await db.client.releaseConnection(reader)
  t.match(failed.json(), { type: 'migration-failed', revision: r3, code: '55P03' })
  t.ok(waitedMs < 30_000, `gave up instead of queueing (${Math.round(waitedMs)} ms)`)
  t.same(await versionTable(), [r2])
  t.equal((await migrate('upgrade', 'head')).statusCode, 200)
  t.same(await versionTable(), [shippedHead])
  t.same(await snapshotCatalog(db), head)
})

t.test('the list indexes: a build cut off by lock_timeout leaves an INVALID index that the next run drops and builds again', async (t) => {
  t.equal((await migrate('downgrade', r4)).statusCode, 200)
  const snapshot = await openSnapshot()
  const failed = await migrate('upgrade', r5)
  await snapshot.end()
  t.match(failed.json(), { type: 'migration-failed', revision: r5, code: '55P03' })
  t.same(await versionTable(), [r4])
  t.same(await invalidIndexes(), ['ix_model_runs_created_at_id'], 'the failed build left an invalid index behind')

  t.equal((await migrate('upgrade', 'head')).statusCode, 200, 'running it again completes')
  t.same(await invalidIndexes(), [])
  t.same(await snapshotCatalog(db), head, 'the very schema a clean run produces')
})

t.test('the list indexes: a run interrupted after any of its statements completes when run again, either way', async (t) => {
  t.equal((await migrate('downgrade', r4)).statusCode, 200)
  const atR4 = await snapshotCatalog(db)
  // Its statements come in two shapes, an INVALID leftover dropped and an index built: cut after each, and before the last.
  for (const done of [1, 2, listIndexes.up.length - 1]) {
    for (const statement of listIndexes.up.slice(0, done)) await db.raw(statement)
    t.equal((await migrate('upgrade', r5)).statusCode, 200, `up after ${done} of ${listIndexes.up.length} statements`)
    t.same(await versionTable(), [r5])
    for (const statement of listIndexes.down.slice(0, done % listIndexes.down.length)) await db.raw(statement)
    t.equal((await migrate('downgrade', r4)).statusCode, 200, `down after ${done % listIndexes.down.length} of its statements`)
    t.same(await snapshotCatalog(db), atR4)
  }
  t.equal((await migrate('upgrade', 'head')).statusCode, 200)
  t.same(await snapshotCatalog(db), head)
})
