import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, createParents, missingId, post } from '../../helpers/data.js'

const { app, db } = await buildDataApp(t, 'model_runs')
const parents = await createParents(app)
const other = await createParents(app)

const get = (url: string) => app.inject({ url, headers: bearer('read') })
const create = (payload: object) => app.inject({ method: 'POST', url: '/model-runs', headers: bearer('write'), payload })
const patch = (id: string, payload: object) => app.inject({ method: 'PATCH', url: `/model-runs/${id}`, headers: bearer('write'), payload })

const metadata = {
  task_id: 'celery-42',
  feature_importance: [{ feature: 'age', importance: 0.35 }, { feature: 'income', importance: 0.28 }],
  error: { type: 'ValueError', message: 'Invalid input data', traceback: '...' },
  notes: { free: ['form'] },
}

t.test('create: 201, Location, pending, metadata kept as given', async (t) => {
  const res = await create({ experimentId: parents.experimentId, modelType: 'random_forest', hyperparameters: { n_estimators: 100 }, metadata })
  t.equal(res.statusCode, 201)
  const run = res.json()
  t.equal(res.headers.location, `/model-runs/${run.id}`)
  t.match(run, { experimentId: parents.experimentId, modelType: 'random_forest', status: 'pending', hyperparameters: { n_estimators: 100 }, metrics: null, trainingTime: null })
  t.same(run.metadata, metadata)
  t.same((await get(`/model-runs/${run.id}`)).json(), run)
  const row = await db('model_runs').where({ id: run.id }).first('metadata', 'status')
  t.same(row, { metadata, status: 'pending' }, 'snake_case columns hold it')
})

t.test('create: known metadata shapes are checked, naming the field', async (t) => {
  const cases: Array<[object, string]> = [
    [{ task_id: 42 }, 'body.metadata.task_id'],
    [{ feature_importance: [{ feature: 'age', importance: 'high' }] }, 'body.metadata.feature_importance.0.importance'],
    [{ feature_importance: [{ importance: 0.1 }] }, 'body.metadata.feature_importance.0.feature'],
    [{ feature_importance: { age: 0.3 } }, 'body.metadata.feature_importance'],
    [{ error: { type: 'ValueError' } }, 'body.metadata.error.message'],
    [{ error: { type: 'ValueError', message: 'x', traceback: 3 } }, 'body.metadata.error.traceback'],
  ]
  for (const [bad, field] of cases) {
    const res = await create({ experimentId: parents.experimentId, modelType: 'svm', metadata: bad })
    t.equal(res.statusCode, 400, field)
    t.equal(res.json().field, field)
  }
  const others: Array<[object, string]> = [
    [{ modelType: 'svm' }, 'body.experimentId'],
    [{ experimentId: parents.experimentId }, 'body.modelType'],
    [{ experimentId: parents.experimentId, modelType: 'svm', status: 'running' }, 'body.status'],
    [{ experimentId: parents.experimentId, modelType: 'svm', hyperparameters: [1] }, 'body.hyperparameters'],
  ]
  for (const [payload, field] of others) t.equal((await create(payload)).json().field, field, field)
})

t.test('create: an experiment that does not exist is 422, never a raw foreign-key error', async (t) => {
  const res = await create({ experimentId: missingId, modelType: 'svm' })
  t.equal(res.statusCode, 422)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), { type: 'parent-not-found', field: 'body.experimentId', detail: /experiment/ })
  t.notMatch(res.body, /foreign key|violates|model_runs_experiment_id_fkey/)
})

t.test('list: newest first, filtered by status, experiment and model type', async (t) => {
  const a = await post(app, '/model-runs', { experimentId: other.experimentId, modelType: 'xgboost' })
  const b = await post(app, '/model-runs', { experimentId: other.experimentId, modelType: 'logistic' })
  const c = await post(app, '/model-runs', { experimentId: other.experimentId, modelType: 'xgboost' })
  t.equal((await patch(c.id, { status: 'running' })).statusCode, 200)
  const ids = async (query: string) => (await get(`/model-runs?${query}`)).json().items.map((r: { id: string }) => r.id)
  t.same(await ids(`experimentId=${other.experimentId}`), [c.id, b.id, a.id])
  t.same(await ids(`experimentId=${other.experimentId}&modelType=xgboost`), [c.id, a.id])
  t.same(await ids(`experimentId=${other.experimentId}&status=running`), [c.id])
  t.same(await ids(`experimentId=${other.experimentId}&status=pending&modelType=logistic`), [b.id])
  t.same(await ids('status=cancelled'), [])
  t.equal((await get('/model-runs?status=paused')).json().field, 'querystring.status')
  t.equal((await get('/model-runs?experimentId=x')).json().field, 'querystring.experimentId')
  const page = (await get(`/model-runs?experimentId=${other.experimentId}&limit=2`)).json()
  t.equal(page.items.length, 2)
  t.same((await get(`/model-runs?experimentId=${other.experimentId}&limit=2&cursor=${page.nextCursor}`)).json(), { items: [(await get(`/model-runs/${a.id}`)).json()], nextCursor: null })
})

t.test('patch: metrics, training time, and clearing them with null', async (t) => {
  const run = await post(app, '/model-runs', { experimentId: parents.experimentId, modelType: 'svm' })
  let res = await patch(run.id, { metrics: { accuracy: 0.91, f1: 0.88 }, trainingTime: 12.5 })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 'pending', metrics: { accuracy: 0.91, f1: 0.88 }, trainingTime: 12.5 })
  res = await patch(run.id, { metrics: { accuracy: 0.93 } })
  t.same(res.json().metrics, { accuracy: 0.93 }, 'metrics are replaced, not merged')
  t.equal(res.json().trainingTime, 12.5, 'what the patch leaves out stays')
  res = await patch(run.id, { metrics: null, trainingTime: null })
  t.match(res.json(), { metrics: null, trainingTime: null })
  t.same(await db('model_runs').where({ id: run.id }).first('metrics', 'training_time'), { metrics: null, training_time: null })
})

t.test('patch: bad bodies 400, unknown id 404, malformed id 400', async (t) => {
  const run = await post(app, '/model-runs', { experimentId: parents.experimentId, modelType: 'svm' })
  const cases: Array<[object, string | null]> = [
    [{}, null],
    [{ status: 'paused' }, 'body.status'],
    [{ trainingTime: -1 }, 'body.trainingTime'],
    [{ trainingTime: '12' }, 'body.trainingTime'],
    [{ modelType: 'svm' }, 'body.modelType'],
    [{ metadata: [1] }, 'body.metadata'],
    [{ metadata: { error: { message: 'no type' } } }, 'body.metadata.error.type'],
    [{ metadata: { feature_importance: [{ feature: 1, importance: 1 }] } }, 'body.metadata.feature_importance.0.feature'],
  ]
  for (const [payload, field] of cases) {
    const res = await patch(run.id, payload)
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    if (field !== null) t.equal(res.json().field, field)
  }
  const missing = await patch(missingId, { status: 'running' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().type, 'not-found')
  t.equal((await patch(missingId, { metrics: {} })).statusCode, 404, 'without a status too')
  t.equal((await patch('not-a-uuid', { metrics: {} })).statusCode, 400)
  t.equal((await get(`/model-runs/${missingId}`)).statusCode, 404)
  t.equal((await get('/model-runs/not-a-uuid')).statusCode, 400)
})

t.test('delete: 204, then 404; tuning runs go with it', async (t) => {
  const run = await post(app, '/model-runs', { experimentId: parents.experimentId, modelType: 'svm' })
  await db('tuning_runs').insert({ model_run_id: run.id, tuning_method: 'grid' })
  const del = () => app.inject({ method: 'DELETE', url: `/model-runs/${run.id}`, headers: bearer('write') })
  const res = await del()
  t.equal(res.statusCode, 204)
  t.equal(res.body, '')
  t.equal((await del()).statusCode, 404)
  t.equal((await get(`/model-runs/${run.id}`)).statusCode, 404)
  t.equal((await db('tuning_runs').where({ model_run_id: run.id })).length, 0)
  t.equal((await app.inject({ method: 'DELETE', url: '/model-runs/nope', headers: bearer('write') })).statusCode, 400)
})

const statuses = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
const allowed = new Set(['pending>running', 'pending>cancelled', 'running>completed', 'running>failed', 'running>cancelled'])

t.test('every from → to pair: the five allowed ones 200, the other twenty 409', async (t) => {
  let ok = 0
  for (const from of statuses) {
    for (const to of statuses) {
      const run = await post(app, '/model-runs', { experimentId: parents.experimentId, modelType: `${from}-${to}` })
      await db('model_runs').where({ id: run.id }).update({ status: from })
      const res = await app.inject({ method: 'PATCH', url: `/model-runs/${run.id}`, headers: bearer('write'), payload: { status: to, metrics: { tried: true } } })
      const stored = await db('model_runs').where({ id: run.id }).first('status', 'metrics')
      if (allowed.has(`${from}>${to}`)) {
        ok += 1
        t.equal(res.statusCode, 200, `${from} → ${to} is allowed`)
        t.equal(res.json().status, to)
        t.same(stored, { status: to, metrics: { tried: true } }, 'status and the rest of the patch in one statement')
      } else {
        t.equal(res.statusCode, 409, `${from} → ${to} is refused`)
        t.match(res.headers['content-type'], /^application\/problem\+json/)
        t.match(res.json(), { type: 'illegal-transition', from, to })
        t.same(stored, { status: from, metrics: null }, 'nothing of a refused patch is applied')
      }
    }
  }
  t.equal(ok, 5)
})

t.test('a run walks pending → running → completed through the API', async (t) => {
  const run = await post(app, '/model-runs', { experimentId: parents.experimentId, modelType: 'walk' })
  const step = (status: string) => app.inject({ method: 'PATCH', url: `/model-runs/${run.id}`, headers: bearer('write'), payload: { status } })
  t.equal((await step('completed')).statusCode, 409, 'cannot skip running')
  t.equal((await step('running')).statusCode, 200)
  t.equal((await step('completed')).statusCode, 200)
  t.match((await step('cancelled')).json(), { from: 'completed', to: 'cancelled' })
})

t.test('two racing transitions from running: exactly one wins', async (t) => {
  const run = await post(app, '/model-runs', { experimentId: parents.experimentId, modelType: 'race' })
  await db('model_runs').where({ id: run.id }).update({ status: 'running' })
  const results = await Promise.all(['completed', 'failed', 'cancelled'].map((status) =>
    app.inject({ method: 'PATCH', url: `/model-runs/${run.id}`, headers: bearer('write'), payload: { status } })))
  const codes = results.map((res) => res.statusCode).sort()
  t.same(codes, [200, 409, 409])
  const winner = results.find((res) => res.statusCode === 200)?.json().status
  t.equal((await db('model_runs').where({ id: run.id }).first('status')).status, winner)
  for (const res of results.filter((r) => r.statusCode === 409)) t.equal(res.json().from, winner)
})
