import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, createParents, post } from '../../helpers/data.js'

const { app, db } = await buildDataApp(t, 'merge_patch')
const { experimentId } = await createParents(app)

async function runWith (metadata?: object): Promise<string> {
  return (await post(app, '/model-runs', { experimentId, modelType: 'gbm', ...(metadata === undefined ? {} : { metadata }) })).id
}
async function patchMetadata (id: string, metadata: unknown) {
  return app.inject({ method: 'PATCH', url: `/model-runs/${id}`, headers: bearer('write'), payload: { metadata } })
}
async function stored (id: string): Promise<unknown> {
  return (await db('model_runs').where({ id }).first('metadata')).metadata
}

t.test('sets keys on a run with no metadata yet', async (t) => {
  const id = await runWith()
  const res = await patchMetadata(id, { task_id: 'abc123' })
  t.equal(res.statusCode, 200)
  t.same(res.json().metadata, { task_id: 'abc123' })
  t.same(await stored(id), { task_id: 'abc123' })
})

t.test('merges nested objects, replaces arrays and scalars, keeps the rest', async (t) => {
  const id = await runWith({ task_id: 'abc', error: { type: 'ValueError', message: 'bad', traceback: 'tb' }, stats: { a: { x: 1, y: 2 }, list: [1, 2] } })
  const res = await patchMetadata(id, { error: { type: 'KeyError', message: 'missing' }, stats: { a: { y: 3, z: { deep: true } }, list: [3] }, feature_importance: [{ feature: 'f', importance: 1 }] })
  t.equal(res.statusCode, 200)
  t.same(await stored(id), {
    task_id: 'abc',
    error: { type: 'KeyError', message: 'missing', traceback: 'tb' },
    stats: { a: { x: 1, y: 3, z: { deep: true } }, list: [3] },
    feature_importance: [{ feature: 'f', importance: 1 }],
  })
})

t.test('null removes a key, at any depth; a missing key removed is no error', async (t) => {
  const id = await runWith({ task_id: 'abc', error: { type: 'E', message: 'm', traceback: 'tb' }, stats: { a: 1, b: 2 } })
  const res = await patchMetadata(id, { task_id: null, error: { type: 'E', message: 'm', traceback: null }, stats: { a: null }, never: null })
  t.equal(res.statusCode, 200)
  t.same(await stored(id), { error: { type: 'E', message: 'm' }, stats: { b: 2 } })
})

t.test('an object patch replaces a non-object value; a null patch clears the metadata', async (t) => {
  const id = await runWith({ stats: [1, 2], label: 'x' })
  await patchMetadata(id, { stats: { a: 1 }, label: { nested: null } })
  t.same(await stored(id), { stats: { a: 1 }, label: {} }, 'RFC 7396: a non-object target becomes {} first')
  const cleared = await patchMetadata(id, null)
  t.equal(cleared.statusCode, 200)
  t.equal(cleared.json().metadata, null)
  t.equal(await stored(id), null, 'SQL NULL, not JSON null')
})

t.test('keys and values are data, never SQL', async (t) => {
  const id = await runWith()
  const nasty = { "x') || '{}'; DROP TABLE users; --": "'; DELETE FROM model_runs; --", '?': { '??': '?' } }
  t.equal((await patchMetadata(id, nasty)).statusCode, 200)
  t.same(await stored(id), nasty)
  t.ok(await db.schema.hasTable('users'))
})

t.test('two concurrent patches of different keys both survive', async (t) => {
  const id = await runWith({ base: true })
  // Hold the row so both PATCHes queue on its lock, then let them through together.
  const holder = await db.transaction()
  await holder('model_runs').where({ id }).forUpdate().select('id')
  const patches = Promise.all([
    patchMetadata(id, { task_id: 'from-a', a: { n: 1 } }),
    patchMetadata(id, { feature_importance: [{ feature: 'b', importance: 0.5 }], b: { n: 2 } }),
  ])
  for (let waiting = 0; waiting < 2;) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    waiting = rows[0].n
  }
  await holder.commit()
  const results = await patches
  t.same(results.map((res) => res.statusCode), [200, 200])
  t.same(await stored(id), { base: true, task_id: 'from-a', a: { n: 1 }, feature_importance: [{ feature: 'b', importance: 0.5 }], b: { n: 2 } })
})

t.test('many concurrent patches, each its own key: none lost', async (t) => {
  const id = await runWith()
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => patchMetadata(id, { [`k${i}`]: i })))
  t.ok(results.every((res) => res.statusCode === 200))
  t.equal(Object.keys(await stored(id) as object).length, 20)
})

t.test('an absurdly deep patch is 400, not a 500', async (t) => {
  const id = await runWith()
  let deep: object = { leaf: 1 }
  for (let i = 0; i < 40; i++) deep = { d: deep }
  const res = await patchMetadata(id, deep)
  t.equal(res.statusCode, 400)
  t.match(res.json(), { type: 'patch-too-large', field: 'body.metadata' })
  let fine: object = { leaf: 1 }
  for (let i = 0; i < 20; i++) fine = { d: fine }
  t.equal((await patchMetadata(id, fine)).statusCode, 200, 'twenty levels merge')
})
