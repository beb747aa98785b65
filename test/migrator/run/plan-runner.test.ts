import type { Knex } from 'knex'
import t from 'tap'
import { MigrationFailedError } from '../../../src/migrator/errors.js'
import { RevisionGraph } from '../../../src/migrator/graph/graph.js'
import { planMigration, type PlanStep } from '../../../src/migrator/graph/planning.js'
import type { Revision } from '../../../src/migrator/revision.js'
import { withMigrationLock } from '../../../src/migrator/run/lock.js'
import type { OperationContext } from '../../../src/migrator/run/operation-context.js'
import { operationError } from '../../../src/migrator/run/operation-failure.js'
import { PlanRunner } from '../../../src/migrator/run/plan-runner.js'
import { beginSql, commitSql } from '../../../src/migrator/run/transaction.js'
import { createAuditLog, type StepReport } from '../../../src/migrator/store/audit.js'
import { ensureBookkeeping } from '../../../src/migrator/store/bookkeeping.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { rev } from '../../helpers/revisions.js'
import { commitsIn, logVersionWrites, versionWrites } from '../../helpers/version-writes.js'

interface Teardown { teardown (fn: () => unknown): void }

const url = await createTestDatabase(t, 'plan_runner')
const knex = testKnex(t, url)
await logVersionWrites(knex)
await ensureBookkeeping(knex)

/** Each test's revisions create tables of their own: the runs share one database and start from base. */
async function reset (): Promise<void> {
  await knex.raw('DELETE FROM alembic_version; DELETE FROM aip_schema_revisions; DELETE FROM knex_migrations; DELETE FROM version_writes')
  await knex.raw("DO $$ DECLARE name text; BEGIN FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'r\\_%' LOOP EXECUTE format('DROP TABLE %I', name); END LOOP; END $$")
}

/** A revision creating table `r_<id>` (dropped going down), after `sql` if any. */
function creating (id: string, down: string[] = [], sql: string[] = []): Revision {
  return rev(id, down, { up: [...sql, `CREATE TABLE r_${id} (id int)`], down: [`DROP TABLE r_${id}`] })
}

interface Outcome { readonly to?: string[], readonly error?: unknown, readonly done: StepReport[], readonly logs: string[] }

/** Runs `steps` from `from` with a runner of its own under the migration lock, as the operation does. */
async function runPlan (t: Teardown, graph: RevisionGraph, plan: { from: string[], steps: readonly PlanStep[], groupMs: number, dryRun?: boolean }): Promise<Outcome> {
  const logs: string[] = []
  const audit = createAuditLog(knex)
  const context: OperationContext = {
    knex,
    graph,
    audit,
    instance: 'plan-runner-test',
    lockWaitMs: 5000,
    lockTimeoutMs: 200,
    statementTimeoutMs: undefined,
    archiveRetentionDays: 30,
    lockRetry: { retries: 1, baseMs: 10, capMs: 10 },
    groupMs: plan.groupMs,
    logger: { info: (_object, message) => logs.push(message), warn: (_object, message) => logs.push(message), error: (_object, message) => logs.push(message) },
    observer: undefined,
    stopping: () => false,
  }
  const operation = (await audit.open({ kind: 'upgrade', target: 'test', dryRun: plan.dryRun === true, actor: 'test', instance: context.instance, status: 'running' })).id
  t.teardown(() => knex('aip_schema_operations').where({ id: operation }).delete())
  const done: StepReport[] = []
  return withMigrationLock(knex, { waitMs: 5000, instance: context.instance }, async (lock) => {
    const runner = (dryRunTransaction?: Knex.Transaction) => new PlanRunner({ context, lock, operation, steps: plan.steps, dryRunTransaction })
    try {
      if (plan.dryRun !== true) return { to: await runner().run(plan.from, done), done, logs }
      let to: string[] = []
      await knex.transaction(async (trx) => {
        to = await runner(trx).run(plan.from, done)
        await trx.rollback()
      }, { connection: lock.session }).catch(() => undefined)
      return { to, done, logs }
    } catch (error) {
      return { error, done, logs }
    }
  })
}

const versionTable = async () => knex('alembic_version').orderBy('version_num').pluck('version_num')

t.test('transaction settings: the budget or the full timeouts; only the last commit waits for the WAL flush', async (t) => {
  t.equal(beginSql({ lockTimeoutMs: 50, statementTimeoutMs: 0 }), "BEGIN; SET LOCAL lock_timeout = '50ms'; SET LOCAL statement_timeout = '0ms'; SET LOCAL synchronous_commit = off")
  t.equal(commitSql(true), 'SET LOCAL synchronous_commit = on; COMMIT')
  t.equal(commitSql(false), 'COMMIT')
  t.throws(() => beginSql({ lockTimeoutMs: 1.5, statementTimeoutMs: 0 }), TypeError, 'never anything but whole milliseconds in the SQL')
})

t.test('sharing off: a batch of one per revision, one commit each, every step reported and recorded', async (t) => {
  await reset()
  const graph = RevisionGraph.build([creating('a1'), creating('a2', ['a1']), creating('a3', ['a2'])])
  const outcome = await runPlan(t, graph, { from: [], steps: planMigration(graph, [], graph.heads), groupMs: 0 })
  t.same(outcome.to, ['a3'])
  t.same(outcome.done.map((report) => [report.revision, report.tries, report.sql.length]), [['a1', 1, 1], ['a2', 1, 1], ['a3', 1, 1]])
  const { reached, chained } = commitsIn(await versionWrites(knex))
  t.same(reached, ['a1', 'a2', 'a3'], 'one commit per revision')
  t.ok(chained)
  t.same(await knex('knex_migrations').orderBy('batch').pluck('name'), ['a1', 'a2', 'a3'])
})

t.test('a shared transaction stops taking revisions once its budget is spent', async (t) => {
  await reset()
  const ids = Array.from({ length: 30 }, (_, index) => `b${String(index + 1).padStart(2, '0')}`)
  const graph = RevisionGraph.build(ids.map((id, index) => creating(id, index === 0 ? [] : [ids[index - 1] as string], ['SELECT pg_sleep(0.02)'])))
  const outcome = await runPlan(t, graph, { from: [], steps: planMigration(graph, [], graph.heads), groupMs: 50 })
  t.same(outcome.to, [ids.at(-1)])
  const { reached, chained } = commitsIn(await versionWrites(knex))
  t.ok(chained)
  const sizes = reached.map((id, index) => ids.indexOf(id) - (index === 0 ? -1 : ids.indexOf(reached[index - 1] as string)))
  t.ok(reached.length >= 10, `${reached.length} commits for 30 revisions of 20 ms under a 50 ms budget`)
  t.ok(sizes.every((size) => size <= 3), `no commit holds more than 3 (${sizes.join(', ')})`)
})

t.test('a revision failing inside a shared transaction: those before it kept, the failure its own', async (t) => {
  await reset()
  const graph = RevisionGraph.build([creating('c1'), creating('c2', ['c1']), rev('c3', ['c2'], { up: ['SELECT 1 / 0'] }), creating('c4', ['c3'])])
  const outcome = await runPlan(t, graph, { from: [], steps: planMigration(graph, [], graph.heads), groupMs: 10_000 })
  t.type(outcome.error, MigrationFailedError)
  t.match(outcome.error, { revision: 'c3', direction: 'up', databaseCode: '22012', tries: 1 })
  t.same(outcome.done.map((report) => report.revision), ['c1', 'c2'])
  t.same(await versionTable(), ['c2'], 'the database ends at the last revision that completed')
  t.ok(outcome.logs.some((line) => line.startsWith('c3 failed in a shared transaction')), 'the shared transaction says why it stopped')
})

t.test('a revision blocked past lock_timeout alone is tried again, then fails naming its tries', async (t) => {
  await reset()
  const graph = RevisionGraph.build([creating('d1'), rev('d2', ['d1'], { up: ['LOCK TABLE r_d1 IN ACCESS EXCLUSIVE MODE'] })])
  await runPlan(t, graph, { from: [], steps: planMigration(graph, [], ['d1']), groupMs: 0 })
  const blocker = await knex.client.acquireConnection()
  t.teardown(() => knex.client.releaseConnection(blocker))
  await knex.raw('BEGIN; LOCK TABLE r_d1 IN SHARE MODE').connection(blocker)
  const outcome = await runPlan(t, graph, { from: ['d1'], steps: planMigration(graph, ['d1'], graph.heads), groupMs: 0 })
  await knex.raw('ROLLBACK').connection(blocker)
  t.match(outcome.error, { revision: 'd2', databaseCode: '55P03', tries: 2 })
  t.ok(outcome.logs.some((line) => /^d2 waited past lock_timeout \(try 1 of 2\)/.test(line)), 'the retry is said')
  t.same(await versionTable(), ['d1'])
})

t.test('a dry run runs every step and leaves nothing', async (t) => {
  await reset()
  const graph = RevisionGraph.build([creating('e1'), creating('e2', ['e1'])])
  const outcome = await runPlan(t, graph, { from: [], steps: planMigration(graph, [], graph.heads), groupMs: 50, dryRun: true })
  t.same(outcome.to, ['e2'])
  t.same(outcome.done.map((report) => report.sql), [['CREATE TABLE r_e1 (id int)'], ['CREATE TABLE r_e2 (id int)']])
  t.same(await versionTable(), [])
  t.equal((await knex.raw("SELECT to_regclass('r_e1') AS present")).rows[0].present, null, 'rolled back')
})

t.test('the migration session lost mid-plan: what committed stays, and the operation is closed as connection-lost', async (t) => {
  await reset()
  const graph = RevisionGraph.build([creating('f1'), rev('f2', ['f1'], { up: ['SELECT pg_terminate_backend(pg_backend_pid())'] }), creating('f3', ['f2'])])
  const outcome = await runPlan(t, graph, { from: [], steps: planMigration(graph, [], graph.heads), groupMs: 0 })
  t.match(outcome.error, { revision: 'f2', kind: 'migration-failed' })
  t.match(operationError(outcome.error, 'f1'), { kind: 'connection-lost', revision: 'f2', lastDone: 'f1', message: /connection to the database was lost while running f2 .*; the last revision done is f1$/ })
  t.same(outcome.done.map((report) => report.revision), ['f1'])
  t.same(await versionTable(), ['f1'])
})
