import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, createParents, missingId, post } from '../../helpers/data.js'

const { app, db } = await buildDataApp(t, 'steps')
const first = await createParents(app)
const second = await createParents(app)

const get = (url: string) => app.inject({ url, headers: bearer('read') })
const create = (payload: object) => app.inject({ method: 'POST', url: '/preprocessing-steps', headers: bearer('write'), payload })
const patch = (id: string, payload: object) => app.inject({ method: 'PATCH', url: `/preprocessing-steps/${id}`, headers: bearer('write'), payload })
const ids = async (query: string) => (await get(`/preprocessing-steps?${query}`)).json().items.map((step: { id: string }) => step.id)

t.test('create: 201, Location, active by default, no transformer', async (t) => {
  const res = await create({ datasetId: first.datasetId, stepType: 'scaler', order: 1, parameters: { method: 'standard' } })
  t.equal(res.statusCode, 201)
  const step = res.json()
  t.equal(res.headers.location, `/preprocessing-steps/${step.id}`)
  t.match(step, { datasetId: first.datasetId, stepType: 'scaler', order: 1, parameters: { method: 'standard' }, isActive: true, hasFittedTransformer: false, fittedTransformerSize: null })
  t.same((await get(`/preprocessing-steps/${step.id}`)).json(), step)
  const inactive = await post(app, '/preprocessing-steps', { datasetId: first.datasetId, stepType: 'imputer', order: 0, isActive: false })
  t.match(inactive, { isActive: false, parameters: null })
  t.equal((await db('preprocessing_steps').where({ id: inactive.id }).first('is_active')).is_active, false)
})

t.test('create: bad bodies 400 naming the field, missing dataset 422', async (t) => {
  const cases: Array<[object, string]> = [
    [{ stepType: 'x', order: 1 }, 'body.datasetId'],
    [{ datasetId: first.datasetId, order: 1 }, 'body.stepType'],
    [{ datasetId: first.datasetId, stepType: 'x' }, 'body.order'],
    [{ datasetId: first.datasetId, stepType: 'x', order: 1.5 }, 'body.order'],
    [{ datasetId: first.datasetId, stepType: 'x', order: 2 ** 31 }, 'body.order'],
    [{ datasetId: first.datasetId, stepType: 'x', order: 1, isActive: 'yes' }, 'body.isActive'],
    [{ datasetId: first.datasetId, stepType: 'x', order: 1, fittedTransformer: 'AAAA' }, 'body.fittedTransformer'],
  ]
  for (const [payload, field] of cases) {
    const res = await create(payload)
    t.equal(res.statusCode, 400, field)
    t.equal(res.json().field, field)
  }
  const orphan = await create({ datasetId: missingId, stepType: 'x', order: 1 })
  t.equal(orphan.statusCode, 422)
  t.match(orphan.json(), { type: 'parent-not-found', field: 'body.datasetId' })
})

t.test('list: by dataset, then order; filters; the cursor follows that order', async (t) => {
  const made = []
  for (const [dataset, order] of [[second.datasetId, 3], [second.datasetId, 1], [second.datasetId, 2], [second.datasetId, 2]] as const) {
    made.push(await post(app, '/preprocessing-steps', { datasetId: dataset, stepType: `s${order}`, order, isActive: order !== 3 }))
  }
  const expected = await db('preprocessing_steps').orderBy(['dataset_id', 'order', 'id']).pluck('id')
  t.same(await ids('limit=500'), expected, 'all steps: dataset, order, id')
  const mine = await ids(`datasetId=${second.datasetId}`)
  t.same(mine.length, 4)
  t.same(mine[0], made[1]?.id, 'order 1 first')
  t.same(mine[3], made[0]?.id, 'order 3 last')
  t.same(await ids(`datasetId=${second.datasetId}&active=false`), [made[0]?.id])
  t.equal((await ids(`datasetId=${second.datasetId}&active=true`)).length, 3)

  const paged: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ id: string }>, nextCursor: string | null } = (await get(`/preprocessing-steps?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)).json()
    paged.push(...page.items.map((step) => step.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  t.same(paged, expected, 'pages of two walk the same order')

  const runCursor = Buffer.from(JSON.stringify({ createdAt: '2025-01-01T00:00:00.000000Z', id: missingId })).toString('base64url')
  t.equal((await get(`/preprocessing-steps?cursor=${runCursor}`)).json().type, 'invalid-cursor', 'a newest-first cursor is not a step cursor')
  t.equal((await get('/preprocessing-steps?active=maybe')).json().field, 'querystring.active')
})

t.test('patch: activate, move, replace or clear parameters', async (t) => {
  const step = await post(app, '/preprocessing-steps', { datasetId: first.datasetId, stepType: 'encoder', order: 5, parameters: { a: 1, b: 2 } })
  let res = await patch(step.id, { isActive: false })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { isActive: false, order: 5, parameters: { a: 1, b: 2 } })
  res = await patch(step.id, { order: 7, parameters: { c: 3 } })
  t.match(res.json(), { isActive: false, order: 7 })
  t.same(res.json().parameters, { c: 3 }, 'parameters are replaced')
  res = await patch(step.id, { parameters: null })
  t.equal(res.json().parameters, null)
  for (const [payload, field] of [[{ stepType: 'x' }, 'body.stepType'], [{ order: 'first' }, 'body.order'], [{ isActive: 1 }, 'body.isActive']] as const) {
    t.equal((await patch(step.id, payload)).json().field, field)
  }
  t.equal((await patch(step.id, {})).statusCode, 400, 'an empty patch')
  t.equal((await patch(missingId, { order: 1 })).statusCode, 404)
  t.equal((await patch('nope', { order: 1 })).statusCode, 400)
})

t.test('get and delete: 404 for unknown ids, 400 for malformed', async (t) => {
  const step = await post(app, '/preprocessing-steps', { datasetId: first.datasetId, stepType: 'drop', order: 9 })
  const del = () => app.inject({ method: 'DELETE', url: `/preprocessing-steps/${step.id}`, headers: bearer('write') })
  t.equal((await del()).statusCode, 204)
  t.equal((await del()).statusCode, 404)
  t.equal((await get(`/preprocessing-steps/${step.id}`)).statusCode, 404)
  t.equal((await get('/preprocessing-steps/12')).statusCode, 400)
  t.equal((await app.inject({ method: 'DELETE', url: '/preprocessing-steps/12', headers: bearer('write') })).statusCode, 400)
})
