import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import createClient from 'openapi-fetch'
import { buildTestApp, tokens } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/database.js'
import { missingId } from '../helpers/data.js'
import { shippedRevisions } from '../helpers/shipped.js'
import type { paths } from './schema.js'

// A listening server on a fresh database, driven only through the client typed from openapi/openapi.json.
const app = await buildTestApp(t, await createTestDatabase(t, 'client'))
await app.listen({ host: '127.0.0.1', port: 0 })
const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
const client = (token: string) => createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } })
const migrator = client(tokens.migrate)
const writer = client(tokens.write)

/** The data of a 2xx answer with the expected status; anything else fails with the problem the server sent. */
function expectData<T> (result: { data?: T, error?: unknown, response: Response }, status: number): T {
  if (result.response.status !== status || result.data === undefined) {
    throw new Error(`expected ${status}, got ${result.response.status}: ${JSON.stringify(result.error)}`)
  }
  return result.data
}

t.test('upgrade to head and read the current revision', async (t) => {
  const upgraded = expectData(await migrator.POST('/migrations/upgrade', { body: { target: 'head' } }), 200)
  t.same(upgraded.from, [])
  t.same(upgraded.steps.map((step) => `${step.direction} ${step.revision}`), shippedRevisions.map((revision) => `up ${revision}`))
  const current = expectData(await migrator.GET('/migrations/current'), 200)
  t.same(current.current, upgraded.to)
  t.same(current.heads, upgraded.to)
  t.equal(current.upToDate, true)
  t.same(current.pending, [])
  const bare = expectData(await migrator.POST('/migrations/upgrade'), 200)
  t.same(bare.steps, [], 'a bare upgrade, as a deploy job sends it, is typed optional and finds nothing to do')
})

t.test('a user, dataset, experiment and model run, moved to running and completed, then listed', async (t) => {
  const user = expectData(await writer.POST('/users', { body: { email: 'client@example.com', name: 'client' } }), 201)
  const dataset = expectData(await writer.POST('/datasets', { body: { userId: user.id, name: 'iris' } }), 201)
  const experiment = expectData(await writer.POST('/experiments', {
    body: { userId: user.id, datasetId: dataset.id, name: 'iris classifier', problemType: 'classification' },
  }), 201)
  const created = expectData(await writer.POST('/model-runs', {
    body: { experimentId: experiment.id, modelType: 'random_forest', hyperparameters: { n_estimators: 100 }, metadata: { task_id: 'celery-1' } },
  }), 201)
  t.equal(created.status, 'pending')
  t.same(created.hyperparameters, { n_estimators: 100 })

  const path = { params: { path: { id: created.id } } }
  const running = expectData(await writer.PATCH('/model-runs/{id}', { ...path, body: { status: 'running' } }), 200)
  t.equal(running.status, 'running')
  const completed = expectData(await writer.PATCH('/model-runs/{id}', {
    ...path,
    body: { status: 'completed', metrics: { accuracy: 0.96 }, trainingTime: 12.5, metadata: { feature_importance: [{ feature: 'petal_length', importance: 0.6 }] } },
  }), 200)
  t.match(completed, { status: 'completed', metrics: { accuracy: 0.96 }, trainingTime: 12.5 })
  t.same(completed.metadata, { task_id: 'celery-1', feature_importance: [{ feature: 'petal_length', importance: 0.6 }] }, 'metadata merged')

  const listed = expectData(await client(tokens.read).GET('/model-runs', {
    params: { query: { experimentId: experiment.id, status: 'completed', limit: 10 } },
  }), 200)
  t.same(listed.items.map((run) => run.id), [created.id])
  t.equal(listed.nextCursor, null)

  const backwards = await writer.PATCH('/model-runs/{id}', { ...path, body: { status: 'running' } })
  t.equal(backwards.response.status, 409, 'completed → running is refused')
  t.equal(backwards.response.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  t.equal(backwards.error?.status, 409, 'the error is the typed problem')
})

t.test('a fitted transformer stored and read back as bytes', async (t) => {
  const reader = client(tokens.read)
  const user = expectData(await writer.POST('/users', { body: { email: 'steps@example.com', name: 'steps' } }), 201)
  const dataset = expectData(await writer.POST('/datasets', { body: { userId: user.id, name: 'wine' } }), 201)
  const step = expectData(await writer.POST('/preprocessing-steps', { body: { datasetId: dataset.id, stepType: 'standard_scaler', order: 1 } }), 201)
  const path = { params: { path: { id: step.id } } }
  const blob = randomBytes(64 * 1024)

  const stored = await writer.PUT('/preprocessing-steps/{id}/fitted-transformer', {
    ...path,
    body: blob,
    bodySerializer: (bytes) => bytes as Uint8Array,
    headers: { 'content-type': 'application/octet-stream' },
  })
  t.equal(stored.response.status, 204)
  const read = expectData(await reader.GET('/preprocessing-steps/{id}/fitted-transformer', { ...path, parseAs: 'arrayBuffer' }), 200)
  t.ok(Buffer.from(read).equals(blob), 'the same bytes')
  t.match(expectData(await reader.GET('/preprocessing-steps/{id}', path), 200), { hasFittedTransformer: true, fittedTransformerSize: blob.length })

  const missing = await reader.GET('/preprocessing-steps/{id}/fitted-transformer', { params: { path: { id: missingId } }, parseAs: 'arrayBuffer' })
  t.equal(missing.response.status, 404)
  t.equal(missing.error?.type, 'not-found')
})

t.test('a token of too low a scope gets the typed 403', async (t) => {
  const refused = await client(tokens.read).POST('/users', { body: { email: 'nobody@example.com', name: 'nobody' } })
  t.equal(refused.response.status, 403)
  t.match(refused.error, { type: 'forbidden', status: 403, requiredScope: 'write' })
})
