import t from 'tap'
import { openTargetMigrator } from '../../../src/fleet/targets/connections.js'
import type { FleetTarget } from '../../../src/fleet/targets/target.js'
import { loadRevisions, RevisionGraph } from '../../../src/migrator/index.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { lineRevision, revisionsDir } from '../../helpers/synthetic-revisions.js'

const sleepMs = 700

t.test('two schema targets of one database upgrade at once, each into its own schema', async (t) => {
  const url = await createTestDatabase(t, 'fleet_schemas')
  const knex = testKnex(t, url)
  const dir = await revisionsDir(t, [
    lineRevision(1, ['CREATE TABLE items (id int PRIMARY KEY)'], ['DROP TABLE items']),
    lineRevision(2, [`SELECT pg_sleep(${sleepMs / 1000})`, 'CREATE TABLE more_items (id int)'], ['DROP TABLE more_items']),
  ])
  const graph = RevisionGraph.build(await loadRevisions(dir))
  const target = (schema: string): FleetTarget => ({ name: schema, environment: 'production', labels: {}, schema, url, migrationUrl: null, source: 'file' })
  const leases = await Promise.all(['tenant_a', 'tenant_b'].map(async (schema) => openTargetMigrator(target(schema), { graph, instance: `test-${schema}` })))
  t.teardown(() => Promise.all(leases.map(async (lease) => lease.close())))

  // Sampled while both run: the two migration locks held at the same moment.
  let mostHeld = 0
  const sampling = new AbortController()
  const sampler = (async () => {
    while (!sampling.signal.aborted) {
      const { rows } = await knex.raw<{ rows: Array<{ held: number }> }>(
        "SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1634300019 AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
      mostHeld = Math.max(mostHeld, rows[0]?.held ?? 0)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  const results = await Promise.all(leases.map(async (lease) => lease.migrator.upgrade({ target: 'head', actor: 'test' })))
  sampling.abort()
  await sampler

  t.equal(mostHeld, 2, 'both schemas held their own migration lock at once')
  for (const result of results) t.same(result.to, [...graph.heads])
  const tables = await knex.raw<{ rows: Array<{ schema: string, table: string }> }>(
    "SELECT table_schema AS schema, table_name AS table FROM information_schema.tables WHERE table_schema IN ('public', 'tenant_a', 'tenant_b') AND table_name IN ('items', 'more_items', 'alembic_version', 'aip_schema_operations') ORDER BY 1, 2")
  t.same(tables.rows, ['tenant_a', 'tenant_b'].flatMap((schema) => ['aip_schema_operations', 'alembic_version', 'items', 'more_items'].map((table) => ({ schema, table }))),
    'each schema holds its own revisions and bookkeeping; public holds none')
  const versions = await Promise.all(['tenant_a', 'tenant_b'].map(async (schema) => (await knex.withSchema(schema).select('version_num').from('alembic_version')).map((row: { version_num: string }) => row.version_num)))
  t.same(versions, [[...graph.heads], [...graph.heads]])
})

t.test('a schema of the database default (public) takes the database\'s one lock', async (t) => {
  const url = await createTestDatabase(t, 'fleet_public')
  const dir = await revisionsDir(t, [lineRevision(1, ['CREATE TABLE items (id int)'], ['DROP TABLE items'])])
  const graph = RevisionGraph.build(await loadRevisions(dir))
  const lease = await openTargetMigrator({ name: 'home', environment: 'default', labels: {}, schema: 'public', url, migrationUrl: null, source: 'file' }, { graph })
  t.teardown(() => lease.close())
  const result = await lease.migrator.upgrade({ target: 'head', actor: 'test' })
  t.same(result.to, [...graph.heads])
  const knex = testKnex(t, url)
  t.same((await knex('public.alembic_version').select('version_num')).map((row: { version_num: string }) => row.version_num), [...graph.heads])
})

t.test('one schema is still migrated by one process at a time, and the one waiting names the holder', async (t) => {
  const url = await createTestDatabase(t, 'fleet_same_schema')
  const dir = await revisionsDir(t, [lineRevision(1, [`SELECT pg_sleep(${sleepMs / 1000})`, 'CREATE TABLE items (id int)'], ['DROP TABLE items'])])
  const graph = RevisionGraph.build(await loadRevisions(dir))
  const target: FleetTarget = { name: 'tenant', environment: 'production', labels: {}, schema: 'tenant_x', url, migrationUrl: null, source: 'file' }
  const holder = await openTargetMigrator(target, { graph, instance: 'holder' })
  const waiter = await openTargetMigrator(target, { graph, instance: 'waiter', lockWaitMs: 200 })
  t.teardown(() => Promise.all([holder.close(), waiter.close()]))
  const running = holder.migrator.upgrade({ target: 'head', actor: 'test' })
  await new Promise((resolve) => setTimeout(resolve, sleepMs / 3))
  await t.rejects(waiter.migrator.upgrade({ target: 'head', actor: 'test' }), { name: 'LockNotAcquiredError', holder: { instance: 'holder' } })
  t.same((await running).to, [...graph.heads])
})
