import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import t from 'tap'
import { defaultFleetConcurrency, FleetCache, fleetConcurrencyDuringRollouts } from '../../../src/fleet/status/fleet-cache.js'
import type { TargetRegistry } from '../../../src/fleet/targets/registry.js'
import type { FleetTarget } from '../../../src/fleet/targets/target.js'
import { loadRevisions, RevisionGraph } from '../../../src/migrator/index.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { waitFor } from '../../helpers/wait.js'

// Six schema targets whose version tables one session holds locked: each read waits on the lock,
// so the reads under way at once are the sessions waiting on it.
const url = await createTestDatabase(t, 'fleet_reads')
const knex = testKnex(t, url)
const graph = RevisionGraph.build(await loadRevisions())
const schemas = ['s1', 's2', 's3', 's4', 's5', 's6']
for (const schema of schemas) await knex.raw('CREATE SCHEMA ??; CREATE TABLE ??.alembic_version (version_num varchar(32) PRIMARY KEY)', [schema, schema])
const targets: FleetTarget[] = schemas.map((schema) => ({ name: schema, environment: 'production', labels: {}, schema, url, migrationUrl: null, source: 'file' }))
const registry: TargetRegistry = { environments: ['production'], list: () => targets, get: (name) => targets.find((each) => each.name === name), refresh: async () => undefined }

async function readsWaiting (): Promise<number> {
  const { rows } = await knex.raw<{ rows: Array<{ n: number }> }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%alembic_version%'")
  return rows[0]?.n ?? 0
}

t.test('while a rollout job runs here the sweep waits and asked-for reads run two at a time; after it, all it may', async (t) => {
  t.ok(fleetConcurrencyDuringRollouts < 3 && schemas.length <= defaultFleetConcurrency, 'the fixture tells the limits apart')
  const locker = new pg.Client({ connectionString: url })
  await locker.connect()
  t.teardown(() => locker.end())
  await locker.query(`BEGIN; LOCK TABLE ${schemas.map((schema) => `${schema}.alembic_version`).join(', ')} IN ACCESS EXCLUSIVE MODE`)
  const cache = new FleetCache({ registry, graph, refreshMs: 60_000, background: false, logger: { debug: () => undefined, warn: () => undefined } })
  t.teardown(() => cache.close())

  const migrationDone = cache.whileMigrating()
  const sweep = cache.refresh()
  await sleep(300)
  t.equal(await readsWaiting(), 0, 'the sweep reads nothing while the job runs')

  const asked = ['s1', 's2', 's3'].map(async (name) => cache.invalidate(name))
  await waitFor(async () => (await readsWaiting()) === fleetConcurrencyDuringRollouts)
  await sleep(300)
  t.equal(await readsWaiting(), fleetConcurrencyDuringRollouts, 'targets the jobs finished are read at once, two at a time')

  migrationDone()
  await sleep(300)
  t.equal(await readsWaiting(), fleetConcurrencyDuringRollouts, 'both hold a moment past the job, for a rollout\'s next one to start')
  await waitFor(async () => (await readsWaiting()) === schemas.length)
  t.pass('then the sweep reads the others, beside the asked-for reads')

  await locker.query('COMMIT')
  await Promise.all([sweep, ...asked])
  const page = await cache.page({ limit: 10 })
  t.same(page.targets.map((entry) => [entry.name, entry.reachable]), schemas.map((schema) => [schema, true]), 'every target was read')
})

t.test('a sweep waiting on a job ends when the cache closes', async (t) => {
  const cache = new FleetCache({ registry, graph, refreshMs: 60_000, background: false, logger: { debug: () => undefined, warn: () => undefined } })
  cache.whileMigrating()
  const sweep = cache.refresh()
  await sleep(100)
  await cache.close()
  await sweep
  t.same((await cache.page({ limit: 10 })).targets.filter((entry) => entry.checkedAt !== null), [], 'closed before it read anything')
})

t.test('a job that runs on slows the sweep to a read per worker and refresh interval, and does not stop it', async (t) => {
  const cache = new FleetCache({ registry, graph, refreshMs: 400, concurrency: 2, background: false, logger: { debug: () => undefined, warn: () => undefined } })
  t.teardown(() => cache.close())
  const migrationDone = cache.whileMigrating()
  t.teardown(migrationDone)
  const started = performance.now()
  const sweep = cache.refresh()
  const read = () => schemas.length - cache.counts().unchecked
  await sleep(200)
  t.equal(read(), 0, 'nothing read within the first interval')
  await waitFor(async () => read() >= 1)
  t.ok(read() < schemas.length, `a read per worker after an interval, not the whole sweep (${read()} read)`)
  await sweep
  t.equal(read(), schemas.length, 'the sweep ends all the same, the job still running')
  t.ok(performance.now() - started >= 3 * 400, 'after three intervals: six targets, two workers')
})
