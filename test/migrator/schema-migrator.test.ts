import knexFactory from 'knex'
import t, { type Test } from 'tap'
import type * as Planning from '../../src/migrator/graph/planning.js'
import type * as Targets from '../../src/migrator/graph/targets.js'
import type * as Engine from '../../src/migrator/index.js'
import { createTestDatabase } from '../helpers/database.js'

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
