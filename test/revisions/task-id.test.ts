import t from 'tap'
import taskIdRevision from '../../src/migrations/3f9a1c2e7d40_add_task_id_to_model_runs.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

// The revision that adds model_runs.task_id, over a table big enough to kill the service part-way
// through its backfill. A test trigger logs every update of a row (in the batch's transaction)
// and sleeps a little, so the backfill takes seconds.
const rows = 6000
const [before] = taskIdRevision.downRevisions as [string]
const url = await createTestDatabase(t, 'task_id')
const db = testKnex(t, url)

async function arrange (): Promise<void> {
  await db.raw('INSERT INTO users (email, username, hashed_password) VALUES (\'task@example.com\', \'task\', \'x\')')
  await db.raw('INSERT INTO datasets (user_id, name, file_path) SELECT id, \'task\', \'\' FROM users')
  await db.raw('INSERT INTO experiments (user_id, dataset_id, name) SELECT user_id, id, \'task\' FROM datasets')
  await db.raw(`INSERT INTO model_runs (experiment_id, model_type, metadata)
    SELECT e.id, 'rf', CASE WHEN g % 10 = 0 THEN NULL ELSE jsonb_build_object('task_id', 'celery-' || g) END
    FROM experiments AS e, generate_series(1, ${rows}) AS g`)
  await db.raw('CREATE TABLE model_run_updates (id uuid NOT NULL)')
  await db.raw(`CREATE FUNCTION log_model_run_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO model_run_updates VALUES (NEW.id); PERFORM pg_sleep(0.0005); RETURN NULL; END $$`)
  await db.raw('CREATE TRIGGER log_model_run_update AFTER UPDATE ON model_runs FOR EACH ROW EXECUTE FUNCTION log_model_run_update()')
}

t.test('SIGKILL of the service mid-backfill: the next upgrade resumes from the checkpoint and every row is updated exactly once', async (t) => {
  const server = await startServer({ DATABASE_URL: url, API_TOKENS: 'admin=task-admin' })
  t.teardown(() => server.stop('SIGKILL'))
  const upgrade = (target: string, async = false) => fetch(`${server.baseUrl}/migrations/upgrade`, {
    method: 'POST',
    headers: { authorization: 'Bearer task-admin', 'content-type': 'application/json' },
    body: JSON.stringify({ target, async }),
  })
  t.equal((await upgrade(before)).status, 200)
  await arrange()
  t.equal((await upgrade(taskIdRevision.revision, true)).status, 202)
  await waitFor(async () => {
    const checkpoint = await db('aip_schema_backfills').first('rows_done').catch(() => undefined)
    return checkpoint !== undefined && Number(checkpoint.rows_done) >= 500
  })
  t.equal(await server.stop('SIGKILL'), null, 'killed part-way through the backfill')
  // Its backend ends once it notices its client is gone; whatever batch it ran rolls back.
  await waitFor(async () => {
    const { rows: [row] } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'aip-schema|%'")
    return row.n === 0
  })
  const checkpoint = await db('aip_schema_backfills').first()
  const { rows: [logged] } = await db.raw('SELECT count(*)::int AS n FROM model_run_updates')
  t.ok(Number(checkpoint.rows_done) < rows * 0.9, `cut off part-way (${checkpoint.rows_done} rows done)`)
  t.equal(logged.n, Number(checkpoint.rows_done), 'the checkpoint counts exactly the rows its committed batches updated')
  t.same(await db('alembic_version').pluck('version_num'), [before], 'the revision is not applied')
  t.same(await db('aip_schema_interrupted').pluck('revision'), [taskIdRevision.revision], 'it is interrupted')

  const app = await buildTestApp(t, url)
  const resumed = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: taskIdRevision.revision } })
  t.equal(resumed.statusCode, 200, 'another process resumes it')
  const [step] = resumed.json().steps
  t.equal(step.resumed, true)
  t.equal(step.rowsDone, rows * 0.9, 'rows done over both runs: every row with a task id')
  const { rows: [updates] } = await db.raw('SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM model_run_updates')
  t.same(updates, { n: rows * 0.9, distinct_ids: rows * 0.9 }, 'every row updated exactly once')
  const { rows: [wrong] } = await db.raw("SELECT count(*)::int AS n FROM model_runs WHERE task_id IS DISTINCT FROM metadata ->> 'task_id'")
  t.equal(wrong.n, 0, 'every task_id is right')
  const { rows: [index] } = await db.raw("SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('ix_model_runs_task_id_created_at_id')")
  t.equal(index.valid, true, 'the index is built')
})

t.test('the trigger keeps task_id right on every insert and update, as the older release writes them', async (t) => {
  await db.raw('DROP TRIGGER log_model_run_update ON model_runs')
  const [experiment] = await db('experiments').pluck('id')
  const [inserted] = await db('model_runs').insert({ experiment_id: experiment, model_type: 'rf', metadata: { task_id: 'new-1' } }).returning(['id', 'task_id'])
  t.equal(inserted.task_id, 'new-1', 'an insert that only sets metadata')
  const [moved] = await db('model_runs').where({ id: inserted.id }).update({ metadata: db.raw('metadata || \'{"task_id": "new-2"}\'') }).returning('task_id')
  t.equal(moved.task_id, 'new-2', 'an update of metadata')
  const [cleared] = await db('model_runs').where({ id: inserted.id }).update({ metadata: null }).returning('task_id')
  t.equal(cleared.task_id, null, 'metadata cleared')
  const [forced] = await db('model_runs').where({ id: inserted.id }).update({ task_id: 'not-from-metadata', metadata: { task_id: 'new-3' } }).returning('task_id')
  t.equal(forced.task_id, 'new-3', 'the column follows metadata, whatever a writer sets')

  const app = await buildTestApp(t, url)
  const patched = await app.inject({ method: 'PATCH', url: `/model-runs/${inserted.id as string}`, headers: bearer('write'), payload: { metadata: { task_id: 'via-api' } } })
  t.equal(patched.statusCode, 200, patched.body)
  t.equal(patched.json().taskId, 'via-api', 'the representation has taskId')
  const listed = await app.inject({ url: '/model-runs?taskId=via-api', headers: bearer('read') })
  t.same(listed.json().items.map((run: { id: string }) => run.id), [inserted.id], '?taskId= finds it')
  t.same((await app.inject({ url: '/model-runs?taskId=celery-1', headers: bearer('read') })).json().items.map((run: { taskId: string }) => run.taskId), ['celery-1'], 'a backfilled row')
  t.equal((await app.inject({ url: '/model-runs?taskId=', headers: bearer('read') })).statusCode, 400, 'an empty task id is refused')

  const down = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: before } })
  t.equal(down.statusCode, 200, 'down undoes it')
  const { rows: [left] } = await db.raw(`SELECT
    (SELECT count(*)::int FROM pg_attribute WHERE attrelid = 'model_runs'::regclass AND attname = 'task_id' AND NOT attisdropped) AS columns,
    (SELECT count(*)::int FROM pg_trigger WHERE tgname = 'model_runs_task_id_from_metadata') AS triggers,
    (SELECT count(*)::int FROM pg_proc WHERE proname = 'model_runs_task_id_from_metadata') AS functions`)
  t.same(left, { columns: 0, triggers: 0, functions: 0 })

  // Below the revision (before an upgrade, or while its backfill runs) the model runs still serve.
  const below = await app.inject({ url: `/model-runs/${inserted.id as string}`, headers: bearer('read') })
  t.equal(below.statusCode, 200, 'a run is served without the column')
  t.equal(below.json().taskId, null)
  const filtered = await app.inject({ url: '/model-runs?taskId=via-api', headers: bearer('read') })
  t.equal(filtered.statusCode, 503)
  t.equal(filtered.json().type, 'schema-not-ready', '?taskId= needs the revision')
  const written = await app.inject({ method: 'PATCH', url: `/model-runs/${inserted.id as string}`, headers: bearer('write'), payload: { metadata: { task_id: 'older' } } })
  t.equal(written.statusCode, 200, 'writes go on')
})
