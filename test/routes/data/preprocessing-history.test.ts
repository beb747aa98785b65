import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, createParents, missingId, post } from '../../helpers/data.js'

const { app, db } = await buildDataApp(t, 'history')
const { userId, datasetId } = await createParents(app)
const output = await post(app, '/datasets', { userId, name: 'cleaned' })

const get = (url: string) => app.inject({ url, headers: bearer('read') })
const create = (payload: object) => app.inject({ method: 'POST', url: '/preprocessing-history', headers: bearer('write'), payload })

t.test('record an operation with every field', async (t) => {
  const res = await create({
    datasetId,
    operationType: 'drop_nulls',
    status: 'success',
    executionTime: 0.42,
    statistics: { rows_removed: 12 },
    originalDatasetId: datasetId,
    outputDatasetId: output.id,
    parameters: { columns: ['age'] },
  })
  t.equal(res.statusCode, 201)
  t.match(res.json(), {
    datasetId,
    operationType: 'drop_nulls',
    status: 'success',
    executionTime: 0.42,
    errorMessage: null,
    statistics: { rows_removed: 12 },
    originalDatasetId: datasetId,
    outputDatasetId: output.id,
    parameters: { columns: ['age'] },
  })
  const row = await db('preprocessing_history').where({ id: res.json().id }).first('output_dataset_id', 'parameters')
  t.same(row, { output_dataset_id: output.id, parameters: { columns: ['age'] } })
})

t.test('record a failure with only the required fields and a message', async (t) => {
  const res = await create({ datasetId, operationType: 'encode', status: 'failed', errorMessage: 'unknown category' })
  t.equal(res.statusCode, 201)
  t.match(res.json(), { status: 'failed', errorMessage: 'unknown category', executionTime: null, statistics: null, originalDatasetId: null, outputDatasetId: null })
})

t.test('bad bodies 400, missing datasets 422 naming which field', async (t) => {
  const cases: Array<[object, string]> = [
    [{ operationType: 'x', status: 'success' }, 'body.datasetId'],
    [{ datasetId, status: 'success' }, 'body.operationType'],
    [{ datasetId, operationType: 'x' }, 'body.status'],
    [{ datasetId, operationType: 'x', status: 'success', executionTime: -1 }, 'body.executionTime'],
    [{ datasetId, operationType: 'x', status: 's'.repeat(51) }, 'body.status'],
  ]
  for (const [payload, field] of cases) t.equal((await create(payload)).json().field, field, field)
  for (const field of ['datasetId', 'originalDatasetId', 'outputDatasetId']) {
    const res = await create({ datasetId, operationType: 'x', status: 'success', [field]: missingId })
    t.equal(res.statusCode, 422, field)
    t.match(res.json(), { type: 'parent-not-found', field: `body.${field}` })
  }
})

t.test('list: newest first, filtered by dataset and status', async (t) => {
  const other = await post(app, '/preprocessing-history', { datasetId: output.id, operationType: 'scale', status: 'success' })
  const all = (await get('/preprocessing-history')).json()
  t.equal(all.items.length, 3)
  t.equal(all.items[0].id, other.id, 'newest first')
  t.same((await get(`/preprocessing-history?datasetId=${output.id}`)).json().items.map((e: { id: string }) => e.id), [other.id])
  t.same((await get(`/preprocessing-history?datasetId=${datasetId}&status=failed`)).json().items.map((e: { operationType: string }) => e.operationType), ['encode'])
  const page = (await get('/preprocessing-history?limit=2')).json()
  t.equal(page.items.length, 2)
  t.equal((await get(`/preprocessing-history?limit=2&cursor=${page.nextCursor}`)).json().items.length, 1)
  t.equal((await get('/preprocessing-history?datasetId=x')).json().field, 'querystring.datasetId')
})
