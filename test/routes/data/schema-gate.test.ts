import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, missingId, post } from '../../helpers/data.js'

const [r2, r3, r4] = ['a1b2c3d4e5f6', 'b2c3d4e5f6g7', 'c3d4e5f6g7h8']

const { app, db } = await buildDataApp(t, 'schema_gate', { revision: r2 })
const user = await post(app, '/users', { email: 'gate@example.com', name: 'gate' })
const dataset = await post(app, '/datasets', { userId: user.id, name: 'gated' })
const experiment = await post(app, '/experiments', { userId: user.id, datasetId: dataset.id, name: 'gated' })

const held: Array<[string, 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', string, string, object?]> = [
  ['list runs', 'GET', '/model-runs', r3],
  ['create a run', 'POST', '/model-runs', r3, { experimentId: experiment.id, modelType: 'svm' }],
  ['get a run', 'GET', `/model-runs/${missingId}`, r3],
  ['patch a run', 'PATCH', `/model-runs/${missingId}`, r3, { status: 'running' }],
  ['delete a run', 'DELETE', `/model-runs/${missingId}`, r3],
  ['list steps', 'GET', '/preprocessing-steps', r4],
  ['create a step', 'POST', '/preprocessing-steps', r4, { datasetId: dataset.id, stepType: 'scaler', order: 1 }],
  ['patch a step', 'PATCH', `/preprocessing-steps/${missingId}`, r4, { isActive: false }],
  ['get a transformer', 'GET', `/preprocessing-steps/${missingId}/fitted-transformer`, r4],
  ['delete a transformer', 'DELETE', `/preprocessing-steps/${missingId}/fitted-transformer`, r4],
]

t.test(`at ${r2}: model runs and steps answer 503 schema-not-ready`, async (t) => {
  for (const [name, method, url, required, payload] of held) {
    const scope = method === 'GET' ? 'read' : 'write'
    const res = await app.inject({ method, url, headers: bearer(scope), payload })
    t.equal(res.statusCode, 503, name)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { type: 'schema-not-ready', currentRevisions: [r2], requiredRevision: required }, name)
  }
  const upload = await app.inject({ method: 'PUT', url: `/preprocessing-steps/${missingId}/fitted-transformer`, headers: { ...bearer('write'), 'content-type': 'application/octet-stream' }, payload: Buffer.from('x') })
  t.equal(upload.statusCode, 503, 'upload a transformer')
  t.equal((await app.inject({ url: '/model-runs' })).statusCode, 401, 'a token is asked for before the schema is told')
  t.equal(await db('model_runs').count('* as n').first().then((row) => Number(row?.n)), 0, 'nothing was written')
})

t.test(`at ${r2}: parents and preprocessing history work`, async (t) => {
  const res = await app.inject({ method: 'POST', url: '/preprocessing-history', headers: bearer('write'), payload: { datasetId: dataset.id, operationType: 'scale', status: 'success' } })
  t.equal(res.statusCode, 201)
  t.equal((await app.inject({ url: '/preprocessing-history', headers: bearer('read') })).json().items.length, 1)
  for (const area of ['users', 'datasets', 'experiments']) {
    t.equal((await app.inject({ url: `/${area}`, headers: bearer('read') })).statusCode, 200, area)
  }
})

t.test('after an upgrade the gate opens within its one-second cache', async (t) => {
  const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(upgraded.statusCode, 200)
  const started = Date.now()
  let status = 503
  while (status === 503 && Date.now() - started < 3000) {
    status = (await app.inject({ url: '/model-runs', headers: bearer('read') })).statusCode
    if (status === 503) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.equal(status, 200)
  t.ok(Date.now() - started < 1500, 'within about a second')
})

t.test('a downgrade under the cache still gives 503, never a raw SQL error', async (t) => {
  t.equal((await app.inject({ url: '/preprocessing-steps', headers: bearer('read') })).statusCode, 200, 'open at head')
  const downgraded = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: r2 } })
  t.equal(downgraded.statusCode, 200)
  for (const url of ['/model-runs', '/preprocessing-steps']) {
    const res = await app.inject({ url, headers: bearer('read') })
    t.equal(res.statusCode, 503, url)
    t.match(res.json(), { type: 'schema-not-ready', currentRevisions: [r2] })
  }
})
