import knexFactory from 'knex'
import pg from 'pg'
import t, { type Test } from 'tap'
import type * as Planning from '../../src/migrator/graph/planning.js'
import type * as Targets from '../../src/migrator/graph/targets.js'
import type * as Engine from '../../src/migrator/index.js'
import { loadRevisions, type RevisionDefinition, RevisionGraph, SchemaMigrator } from '../../src/migrator/index.js'
import { migrationSessionName } from '../../src/migrator/run/cancel.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { lineRevision, revisionsDir } from '../helpers/synthetic-revisions.js'

const silent = { info () {}, warn () {}, error () {} }

/** The engine with the pure modules that resolve targets and plan steps counting their calls. */
async function countingEngine (t: Test) {
  const calls = { resolveTarget: 0, planMigration: 0 }
  const targets = await import('../../src/migrator/graph/targets.js') as typeof Targets
  const planning = await import('../../src/migrator/graph/planning.js') as typeof Planning
  const engine = await t.mockImport<typeof Engine>('../../src/migrator/index.ts', {
    '../../src/migrator/graph/targets.ts': {
      ...targets,
      resolveTarget: (...args: Parameters<typeof targets.resolveTarget>) => { calls.resolveTarget++; return targets.resolveTarget(...args) },
    },
    '../../src/migrator/graph/planning.ts': {
      ...planning,
      planMigration: (...args: Parameters<typeof planning.planMigration>) => { calls.planMigration++; return planning.planMigration(...args) },
    },
  })
  return { engine, calls }
}

t.test('one upgrade resolves its target once and plans once', async (t) => {
  const { engine, calls } = await countingEngine(t)
  const knex = knexFactory({ client: 'pg', connection: await createTestDatabase(t, 'plan_once'), pool: { min: 0, max: 4 } })
  t.teardown(() => knex.destroy())
  const graph = engine.RevisionGraph.build(await engine.loadRevisions())
  const migrator = new engine.SchemaMigrator({ knex, graph, instance: 'plan-once', lockWaitMs: 5000, lockTimeoutMs: 5000, logger: silent })
  const result = await migrator.upgrade({ target: 'head', actor: 'test' })
  t.same(result.to, graph.heads, 'the upgrade reached the head')
  t.ok(result.steps.length > 1, `${result.steps.length} steps ran`)
  t.same(calls, { resolveTarget: 1, planMigration: 1 })

  await migrator.downgrade({ target: 'base', actor: 'test' })
  const queued = await migrator.submit('upgrade', { target: 'head', actor: 'test' })
  await migrator.idle()
  t.equal((await migrator.operation(queued.id)).status, 'succeeded')
  t.same(calls, { resolveTarget: 3, planMigration: 3 }, 'the downgrade and the queued upgrade: once each')
})

/** A database of its own and an engine on `definitions`, sharing transactions for `groupMs`. */
async function engineOn (t: Test, definitions: readonly RevisionDefinition[], options: { url?: string, groupMs?: number, instance?: string } = {}) {
  const url = options.url ?? await createTestDatabase(t, 'schema_migrator')
  const knex = testKnex(t, url)
  const graph = RevisionGraph.build(await loadRevisions(await revisionsDir(t, definitions)))
  const migrator = new SchemaMigrator({ knex, graph, instance: options.instance ?? 'engine-test', lockWaitMs: 10_000, lockTimeoutMs: 5000, groupMs: options.groupMs, logger: silent })
  return { url, knex, graph, migrator }
}

/** Polls `read` every 20 ms until `done` holds of what it read; fails after `ms`. */
async function until<T> (read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> {
  const started = performance.now()
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (performance.now() - started > ms) throw new Error(`still not there after ${ms} ms: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('a synchronous operation reads queued until it holds the lock, then running', async (t) => {
  const { url, migrator } = await engineOn(t, [lineRevision(1, ['CREATE TABLE q_1 (id int)'], ['DROP TABLE q_1'])])
  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  t.teardown(() => holder.end())
  // The migration lock, held as another replica would hold it (see run/lock.ts).
  await holder.query('SELECT pg_advisory_lock(1634300019, 1)')
  const upgrading = migrator.upgrade({ target: 'head', actor: 'test' })
  const [waiting] = await until(() => migrator.operations(1), (operations) => operations.length === 1)
  t.match(waiting, { kind: 'upgrade', status: 'queued', finishedAt: null }, 'queued while another session holds the lock')
  await holder.query('SELECT pg_advisory_unlock(1634300019, 1)')
  t.same((await upgrading).to, ['s00000000001'])
  t.match(await migrator.operation(waiting?.id ?? ''), { status: 'succeeded' })
})

t.test('an operation cut off by a lost connection is closed failed, connection-lost, naming the last revision done', async (t) => {
  const ids = Array.from({ length: 40 }, (_, offset) => offset + 1)
  const { knex, graph, migrator } = await engineOn(t, ids.map((index) => lineRevision(index, ['SELECT pg_sleep(0.05)', `CREATE TABLE l_${index} (id int)`], [`DROP TABLE l_${index}`])), { groupMs: 0, instance: 'cut-off' })
  const queued = await migrator.submit('upgrade', { target: 'head', actor: 'test' })
  await until(() => migrator.operation(queued.id), (operation) => operation.stepsDone >= 3)
  const { rows } = await knex.raw('SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()', [migrationSessionName('cut-off')])
  t.same(rows, [{ terminated: true }], 'the migration session is terminated')
  const closed = await until(() => migrator.operation(queued.id), (operation) => operation.status !== 'running', 5000)
  const lastDone = closed.steps.at(-1)?.revision
  t.match(closed, { status: 'failed', error: { kind: 'connection-lost', lastDone } })
  t.ok(closed.finishedAt !== null)
  t.ok(closed.stepsDone >= 3 && closed.stepsDone < ids.length, `${closed.stepsDone} steps done`)
  t.same(await knex('alembic_version').pluck('version_num'), [lastDone], 'the version is the last revision done: whole revisions, never half of one')
  await migrator.idle()
  t.same((await migrator.upgrade({ target: 'head', actor: 'test' })).to, graph.heads, 'the next upgrade reaches head')
})

t.test('several heads through a shared transaction: alembic_version and current hold every head', async (t) => {
  const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString()
  const revision = (id: string, downRevisions: string[], minute: number): RevisionDefinition =>
    ({ revision: id, downRevisions, description: id, createDate: at(minute), up: [`CREATE TABLE h_${id} (id int)`], down: [`DROP TABLE h_${id}`] })
  const branches = [revision('a', [], 1), revision('b1', ['a'], 2), revision('c1', ['a'], 3), revision('b2', ['b1'], 4)]
  const { url, knex, migrator } = await engineOn(t, branches, { groupMs: 10_000 })
  const versionTable = async () => knex('alembic_version').orderBy('version_num').pluck('version_num')
  const upgraded = await migrator.upgrade({ target: 'heads', actor: 'test' })
  t.same(upgraded.steps.map((step) => step.revision), ['a', 'b1', 'c1', 'b2'])
  t.same(await versionTable(), ['b2', 'c1'], 'both branches\' heads in alembic_version')
  t.same((await migrator.status()).current, ['b2', 'c1'], 'and in current')
  t.equal(await knex('aip_schema_operation_steps').count({ n: '*' }).first().then((row) => Number(row?.n)), 4, 'every step recorded')

  const merged = await engineOn(t, [...branches, revision('m', ['b2', 'c1'], 5)], { url, groupMs: 10_000 })
  t.same((await merged.migrator.upgrade({ target: 'heads', actor: 'test' })).to, ['m'])
  t.same(await versionTable(), ['m'])
  const down = await merged.migrator.downgrade({ target: 'b2', actor: 'test' })
  t.same(down.steps.map((step) => step.revision), ['m'])
  t.same(await versionTable(), ['b2', 'c1'], 'the merge undone: its two parents are the heads again')
  t.same((await merged.migrator.status()).current, ['b2', 'c1'])
  const toBase = await merged.migrator.downgrade({ target: 'a', actor: 'test' })
  t.same(toBase.steps.map((step) => step.revision), ['b2', 'c1', 'b1'])
  t.same(await versionTable(), ['a'], 'both branches undone in one shared transaction')
})
