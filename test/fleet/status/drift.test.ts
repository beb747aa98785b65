import t from 'tap'
import { FleetCache } from '../../../src/fleet/status/fleet-cache.js'
import { openTargetMigrator } from '../../../src/fleet/targets/connections.js'
import type { TargetRegistry } from '../../../src/fleet/targets/registry.js'
import type { FleetTarget } from '../../../src/fleet/targets/target.js'
import { loadRevisions, RevisionGraph } from '../../../src/migrator/index.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'

// The shipped revisions and their committed snapshots, in three schema targets of one database.
const url = await createTestDatabase(t, 'fleet_drift')
const knex = testKnex(t, url)
const graph = RevisionGraph.build(await loadRevisions())
const target = (schema: string): FleetTarget => ({ name: schema, environment: 'production', labels: {}, schema, url, migrationUrl: null, source: 'file' })
const targets = ['tenant_same', 'tenant_drifted', 'tenant_behind'].map(target)
for (const [index, each] of targets.entries()) {
  const lease = await openTargetMigrator(each, { graph, instance: 'test' })
  try {
    await lease.migrator.upgrade({ target: index === 2 ? graph.all().find((revision) => revision.downRevisions.length === 0)?.revision as string : 'head', actor: 'test' })
  } finally {
    await lease.close()
  }
}
await knex.raw('ALTER TABLE tenant_drifted.model_runs ADD COLUMN notes text')

const registry: TargetRegistry = { environments: ['production'], list: () => targets, get: (name) => targets.find((each) => each.name === name), refresh: async () => undefined }
const debug: string[] = []

t.test('each target\'s live schema against the snapshot of its own revision', async (t) => {
  const cache = new FleetCache({ registry, graph, refreshMs: 60_000, background: false, logger: { debug: (_object, message) => { debug.push(message) }, warn: () => undefined } })
  t.teardown(() => cache.close())
  await cache.refresh()
  const page = await cache.page({ limit: 10 })
  t.same(page.targets.map((entry) => [entry.name, entry.inSync]), [['tenant_behind', true], ['tenant_drifted', false], ['tenant_same', true]],
    'at head as the snapshot says; a column added by hand; behind, as its own revision\'s snapshot says')
  t.equal(page.summary.drifted, 1)
})

t.test('without a snapshot to compare with, drift is not told: null, never a failed read', async (t) => {
  const cache = new FleetCache({ registry, graph, refreshMs: 60_000, background: false, snapshotsDir: '/nonexistent', logger: { debug: (_object, message) => { debug.push(message) }, warn: () => undefined } })
  t.teardown(() => cache.close())
  await cache.refresh()
  const page = await cache.page({ limit: 10 })
  t.same(page.targets.map((entry) => [entry.reachable, entry.inSync]), [[true, null], [true, null], [true, null]])
  t.ok(debug.includes('fleet: drift not told'))
})
