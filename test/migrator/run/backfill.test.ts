import t from 'tap'
import { ensureBookkeeping } from '../../../src/migrator/store/bookkeeping.js'
import { adaptedSize, etaMs, quoteIdentifier, runBackfill, type BackfillRun } from '../../../src/migrator/run/backfill.js'
import type { BackfillProgress } from '../../../src/migrator/observer.js'
import type { RetryEvent } from '../../../src/migrator/run/retries.js'
import { MigrationFailedError } from '../../../src/migrator/errors.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'

const url = await createTestDatabase(t, 'backfill')
const db = testKnex(t, url)
await ensureBookkeeping(db)
await db.raw('CREATE TABLE "odd ""name""" (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)')
await db.raw('INSERT INTO "odd ""name""" (id) SELECT g FROM generate_series(1, 2000) AS g')
const session = await db.client.acquireConnection()
t.teardown(() => db.client.releaseConnection(session))

function backfillRun (overrides: Partial<BackfillRun> & { progress: BackfillProgress[], retries: RetryEvent[] }): BackfillRun {
  return {
    knex: db,
    step: { revision: 'r1', direction: 'up' } as BackfillRun['step'],
    sessionPid: 0,
    lockTimeoutMs: 100,
    retry: { retries: 3, baseMs: 50, capMs: 200 },
    onRetry: (event) => overrides.retries.push(event),
    backfill: { table: 'odd "name"', set: 'n = n + 1', where: 'n = 0', batchSize: 400 },
    revision: 'r1',
    index: 0,
    session,
    operation: '00000000-0000-4000-8000-000000000001',
    statementTimeoutMs: 0,
    stopping: () => false,
    onProgress: (progress) => overrides.progress.push(progress),
    ...overrides,
  }
}

t.test('a batch that meets a held row lock is halved and tried again; progress never goes back', async (t) => {
  const holder = await db.client.acquireConnection()
  await db.raw('BEGIN').connection(holder)
  await db.raw('SELECT * FROM "odd ""name""" WHERE id = 1000 FOR UPDATE').connection(holder)
  const progress: BackfillProgress[] = []
  const retries: RetryEvent[] = []
  const timeline: Array<number | 'retry'> = []
  let released: Promise<void> = Promise.resolve()
  const running = runBackfill(db, backfillRun({
    progress,
    retries,
    onProgress: (event) => { progress.push(event); timeline.push(event.batchSize) },
    onRetry: (event) => {
      retries.push(event)
      timeline.push('retry')
      // Let go of the row once a batch has waited on it.
      if (retries.length === 2) released = db.raw('ROLLBACK').connection(holder).then(() => db.client.releaseConnection(holder))
    },
  }))
  const outcome = await running
  await released
  t.equal(outcome.rowsDone, 2000, 'every row')
  t.ok(retries.length >= 2, `retried on lock_timeout (${retries.length} tries failed)`)
  const first = timeline.indexOf('retry')
  const before = timeline[first - 1] as number
  const after = timeline.slice(first).find((entry) => entry !== 'retry') as number
  // The try that met the lock asked for at most twice the batch before it (adaptation doubles
  // at most); each failed try halves it, so the batch that goes through is no larger than that one.
  t.ok(after <= before, `the batch after the lock waits is halved (${timeline.join(', ')})`)
  for (let index = 1; index < progress.length; index++) {
    t.ok((progress[index]?.rowsDone ?? 0) > (progress[index - 1]?.rowsDone ?? 0), 'rows done only grow')
  }
  t.equal(progress.at(-1)?.rowsTotal, 2000, 'the estimate: the rows the predicate selected')
  const { rows: [row] } = await db.raw('SELECT count(*) FILTER (WHERE n = 1)::int AS once, count(*)::int AS total FROM "odd ""name"""')
  t.same(row, { once: 2000, total: 2000 }, 'each row updated exactly once')
})

t.test('a row lock held past the retries fails the step naming the lock timeout; the checkpoint keeps what was done', async (t) => {
  await db.raw('UPDATE "odd ""name""" SET n = 0')
  await db('aip_schema_backfills').delete()
  const holder = await db.client.acquireConnection()
  t.teardown(async () => {
    await db.raw('ROLLBACK').connection(holder)
    await db.client.releaseConnection(holder)
  })
  await db.raw('BEGIN').connection(holder)
  await db.raw('SELECT * FROM "odd ""name""" WHERE id = 1500 FOR UPDATE').connection(holder)
  const progress: BackfillProgress[] = []
  const retries: RetryEvent[] = []
  const error = await runBackfill(db, backfillRun({ progress, retries, index: 1 })).catch((failure: unknown) => failure)
  t.type(error, MigrationFailedError)
  t.equal((error as MigrationFailedError).databaseCode, '55P03', 'lock_timeout')
  const checkpoint = await db('aip_schema_backfills').where({ revision: 'r1', step: 1 }).first()
  t.equal(Number(checkpoint.rows_done), progress.at(-1)?.rowsDone, 'the checkpoint is the last committed batch')
  t.ok(Number(checkpoint.rows_done) < 1500 && Number(checkpoint.rows_done) > 0)
})

t.test('batch sizes follow the target duration within halving and doubling', async (t) => {
  t.equal(adaptedSize(1000, 50, 100), 2000)
  t.equal(adaptedSize(1000, 400, 100), 500)
  t.equal(adaptedSize(1000, 125, 100), 800)
  t.equal(adaptedSize(1, 1000, 100), 1, 'never below one row')
  t.equal(etaMs(100, 0), null, 'unknown without a rate')
  t.equal(etaMs(100, 50), 2000)
  t.equal(quoteIdentifier('public.model_runs'), '"public"."model_runs"')
  t.equal(quoteIdentifier('odd "name"'), '"odd ""name"""')
})
