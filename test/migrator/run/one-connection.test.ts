import { fileURLToPath } from 'node:url'
import knexFactory from 'knex'
import t, { type Test } from 'tap'
import { loadRevisions, MigrationFailedError, RevisionGraph, SchemaMigrator } from '../../../src/migrator/index.js'
import { createTestDatabase } from '../../helpers/database.js'

const silent = { info () {}, warn () {}, error () {} }

/**
 * A pool of one connection: were anything the engine does under the lock to ask the pool for
 * another (the bookkeeping beside the lock's session), it would wait out the acquire timeout and fail.
 */
async function oneConnectionMigrator (t: Test, label: string, migrationsDir?: string) {
  const knex = knexFactory({ client: 'pg', connection: await createTestDatabase(t, label), pool: { min: 0, max: 1 }, acquireConnectionTimeout: 3_000 })
  t.teardown(() => knex.destroy())
  const graph = RevisionGraph.build(await loadRevisions(migrationsDir))
  const migrator = new SchemaMigrator({ knex, graph, instance: label, lockWaitMs: 5_000, lockTimeoutMs: 5_000, logger: silent })
  return { knex, graph, migrator }
}

t.test('an upgrade, a dry run, a downgrade and a stamp each run on one connection', async (t) => {
  const { graph, migrator } = await oneConnectionMigrator(t, 'one_connection')
  const dry = await migrator.upgrade({ target: 'head', actor: 'test', dryRun: true })
  t.same(dry.to, graph.heads, 'the dry run reached the head')
  const up = await migrator.upgrade({ target: 'head', actor: 'test' })
  t.same(up.to, graph.heads)
  t.equal(up.steps.length, graph.all().length, 'every revision ran')
  const down = await migrator.downgrade({ target: 'base', actor: 'test' })
  t.same(down.to, [])
  const stamped = await migrator.stamp({ target: 'head', actor: 'test', allowBackwards: false })
  t.same(stamped.to, graph.heads)
  const operations = await migrator.operations(10)
  t.same(operations.map((operation) => [operation.kind, operation.dryRun, operation.status]), [
    ['stamp', false, 'succeeded'], ['downgrade', false, 'succeeded'], ['upgrade', false, 'succeeded'], ['upgrade', true, 'succeeded'],
  ], 'each operation recorded as it ended, newest first')
  t.equal(operations[2]?.steps.length, graph.all().length, "the upgrade's steps are in its record")
})

t.test('a failing revision is recorded on that one connection too', async (t) => {
  const dir = fileURLToPath(new URL('../../fixtures/failing-revisions/', import.meta.url))
  const { knex, migrator } = await oneConnectionMigrator(t, 'one_connection_failing', dir)
  const failure = await migrator.upgrade({ target: 'head', actor: 'test' }).then(() => null, (error: unknown) => error)
  t.ok(failure instanceof MigrationFailedError, 'the revision failed')
  const [operation] = await migrator.operations(1)
  t.equal(operation?.status, 'failed')
  t.equal(operation?.error?.revision, 'bbbbbbbbbbbb', 'naming the revision')
  t.same(operation?.steps.map((step) => step.revision), ['aaaaaaaaaaaa'], 'the revision before it committed and is recorded')
  const { rows } = await knex.raw<{ rows: Array<{ version_num: string }> }>('SELECT version_num FROM alembic_version')
  t.same(rows.map((row) => row.version_num), ['aaaaaaaaaaaa'])
})
