import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { lineRevision, revisionsDir } from '../../helpers/synthetic-revisions.js'
import { waitFor } from '../../helpers/wait.js'

// Without a TARGETS_FILE the service governs its own database alone: no job queue polls it
// until a rollout is asked for, or one under way is found when a replica starts.
const url = await createTestDatabase(t, 'rollout_queue_start')
const db = testKnex(t, url)
const dir = await revisionsDir(t, [lineRevision(1, ['CREATE TABLE items (id int)'], ['DROP TABLE items'])])

async function queueSchema (): Promise<boolean> {
  const { rows } = await db.raw<{ rows: Array<{ present: boolean }> }>("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'aip_schema_queue') AS present")
  return rows[0]?.present === true
}

async function queueSessions (): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aip-schema rollouts'")
  return rows[0]?.n ?? 0
}

t.test('no fleet: nothing of the queue at start; the first rollout request starts it and the rollout runs', async (t) => {
  const app = await buildTestApp(t, url, { migrationsDir: dir, dataApi: false })
  await app.ready()
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.notOk(await queueSchema(), 'no queue schema made')
  t.equal(await queueSessions(), 0, 'no queue connection')

  const created = await app.inject({ method: 'POST', url: '/rollouts', headers: bearer('migrate'), payload: { canary: 0 } })
  t.equal(created.statusCode, 202, created.body)
  t.ok(await queueSchema(), 'the queue is set up by the request')
  const id = created.json().id as string
  await waitFor(async () => (await app.inject({ url: `/rollouts/${id}`, headers: bearer('read') })).json().status === 'succeeded')
  t.same(await db('alembic_version').pluck('version_num'), ['s00000000001'], 'the service\'s own database was migrated by the queue\'s job')
  // A job sent wakes the workers at its commit (NOTIFY), not at their next poll.
  t.same(await db('aip_schema_queue.queue').where({ name: 'rollout-target' }).pluck('notify'), [true], 'the queue notifies')
  const listening = await db.raw<{ rows: Array<{ n: number }> }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'aip-schema rollouts' AND query ILIKE 'LISTEN%'")
  t.equal(listening.rows[0]?.n, 1, 'and a session of the queue listens')
})

t.test('a replica starting while a rollout is under way starts its queue at once, to work it', async (t) => {
  await db('aip_schema_rollouts').insert({
    id: '00000000-0000-4000-8000-0000000000aa',
    verb: 'upgrade',
    target: 'head',
    status: 'paused',
    actor: 'test',
    max_parallel: 1,
    max_failures: 0,
    on_error: 'stop',
  })
  const app = await buildTestApp(t, url, { migrationsDir: dir, dataApi: false, instance: 'second' })
  await app.ready()
  await waitFor(async () => (await queueSessions()) > 0)
  t.pass('its queue connects without being asked')
})
