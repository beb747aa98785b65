import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import fc from 'fast-check'
import t from 'tap'
import { bearer, tokens } from '../helpers/app.js'
import { buildDataApp, createParents, missingId, post } from '../helpers/data.js'
import { hostileRequests, operationsOf, type HintsFor, type HostileRequest, type OpenApiDocument, type Operation } from '../helpers/hostile-requests.js'
import { shippedRevisions } from '../helpers/shipped.js'

/**
 * Requests derived from the OpenAPI document and mutated, sent to every operation: no 5xx, every
 * error application/problem+json with type, title and status, every status one the operation
 * documents. Replay a failure with the seed it prints: FUZZ_SEED=<seed> npx tap <this file>.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20251125)
const runs = Number(process.env.FUZZ_RUNS ?? 2400)
const batch = 8
const migrationRuns = Number(process.env.FUZZ_MIGRATION_RUNS ?? 200)
t.comment(`FUZZ_SEED=${seed} FUZZ_RUNS=${runs} FUZZ_MIGRATION_RUNS=${migrationRuns}`)

// The data routes' database stays at head with real records; upgrade, downgrade and stamp move a
// database of their own, so a downgrade never turns the data routes' answers into 503s. One after
// the other: an app's start compiles its schemas synchronously, for a second or more on a busy
// machine, and the other's upgrade, waiting on a connection meanwhile, would time out as a 503.
const { app } = await buildDataApp(t, 'hostile')
const { app: migrationApp } = await buildDataApp(t, 'hostile_migrations')
const document = (await app.inject({ url: '/openapi.json' })).json<OpenApiDocument>()
const operations = operationsOf(document)
const moving = new Set(['upgradeSchema', 'downgradeSchema', 'stampSchema'])

const parents = await createParents(app)
const ids = {
  users: [parents.userId],
  datasets: [parents.datasetId],
  experiments: [parents.experimentId],
  'model-runs': [(await post(app, '/model-runs', { experimentId: parents.experimentId, modelType: 'svm' })).id],
  'preprocessing-steps': [(await post(app, '/preprocessing-steps', { datasetId: parents.datasetId, stepType: 'scaler', order: 1 })).id],
  operations: [(await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations[0].id as string],
}
const stored = await app.inject({
  method: 'PUT',
  url: `/preprocessing-steps/${ids['preprocessing-steps'][0]}/fitted-transformer`,
  headers: { ...bearer('write'), 'content-type': 'application/octet-stream' },
  payload: Buffer.from('transformer'),
})
if (stored.statusCode !== 204) throw new Error(`storing the transformer answered ${stored.statusCode}`)
const page = (await app.inject({ url: '/model-runs?limit=1', headers: bearer('read') })).json<{ nextCursor: string | null }>()
const revisions = [...shippedRevisions]

const real = <T> (values: T[]) => fc.constantFrom(...values, missingId)
const hintsFor: HintsFor = (operation) => {
  const area = operation.path.split('/')[operation.path.startsWith('/migrations') ? 2 : 1] as keyof typeof ids
  return {
    id: real(ids[area] ?? Object.values(ids).flat()),
    userId: real(ids.users),
    datasetId: real(ids.datasets),
    originalDatasetId: real(ids.datasets),
    outputDatasetId: real(ids.datasets),
    experimentId: real(ids.experiments),
    rev: fc.oneof(fc.constantFrom(...revisions), fc.constantFrom(...revisions).map((id) => id.slice(0, 4)), fc.constantFrom('a', 'c3', 'head')),
    target: fc.oneof(fc.constantFrom('head', 'heads', 'base', '+1', '-1', '+2', '-2', '+10', '-0', 'head-1', 'base+1', 'c3d4-2', 'a1b2+1', 'head+1', 'base-1', '5c1b6116de51@head'),
      fc.constantFrom(...revisions)),
    cursor: fc.oneof(fc.constant(page.nextCursor ?? 'none'), fc.base64String({ maxLength: 60 }),
      fc.jsonValue({ maxDepth: 2 }).map((value) => Buffer.from(JSON.stringify(value) ?? '').toString('base64url'))),
  }
}

const statuses = new Map<number, number>()
const problemTypesSeen = new Set<string>()
const documentedTypes = new Set((document as unknown as { components: { schemas: { Problem: { properties: { type: { enum: string[] } } } } } }).components.schemas.Problem.properties.type.enum)

/** What is wrong with the answer, or null when nothing is. */
function violation (request: HostileRequest, response: LightMyRequestResponse): string | null {
  const status = response.statusCode
  statuses.set(status, (statuses.get(status) ?? 0) + 1)
  if (status >= 400) {
    if (!/^application\/problem\+json/.test(String(response.headers['content-type']))) return `an error as ${response.headers['content-type']}`
    const problem = response.json<{ type?: unknown, title?: unknown, status?: unknown, detail?: unknown }>()
    if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || problem.status !== status) return 'a problem without type, title or its status'
    if (!documentedTypes.has(problem.type)) return `problem type ${problem.type}, which the document's Problem.type does not list`
    problemTypesSeen.add(problem.type)
    // The contract's one 5xx a request may cause: a stamp said the schema was where it is not, and
    // the SQL of the next upgrade or downgrade failed on it. Anything else at 500 or above is a bug.
    const stampedWrong = status === 500 && problem.type === 'migration-failed' && moving.has(request.operation.operationId)
    if (status >= 500 && !stampedWrong) return `answered ${status}`
    // A mangled path ('/users/a/b') reaches no route at all: the service's 404, not the operation's;
    // or the path of another operation ('/migrations/plans/' for POST), with other methods: its 405.
    const noRoute = (status === 404 && typeof problem.detail === 'string' && problem.detail.startsWith('no route ')) ||
      (status === 405 && problem.type === 'method-not-allowed' && typeof response.headers.allow === 'string')
    return noRoute || documented(request, status) ? null : `undocumented status ${status}`
  }
  return documented(request, status) ? null : `undocumented status ${status}`
}

/**
 * Listed by the operation, or an answer of the transport that `default` stands for: a path
 * parameter too long for the router (414), the rate limit (429), a body sent to an operation
 * that takes none (413, 415).
 */
function documented ({ operation, payload }: HostileRequest, status: number): boolean {
  if (operation.statuses.includes(String(status))) return true
  const unaskedBody = payload !== undefined && operation.bodyMediaType === null && (status === 413 || status === 415)
  return operation.statuses.includes('default') && (status === 414 || status === 429 || unaskedBody)
}

async function check (target: FastifyInstance, request: HostileRequest): Promise<void> {
  const response = await target.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload })
  // An asynchronous upgrade goes on after its 202; the next request should meet the database it left.
  if (target === migrationApp) await migrationApp.migrator.idle()
  const wrong = violation(request, response)
  if (wrong !== null) {
    const sent = request.payload === undefined ? '' : ` ${request.headers['content-type'] ?? ''} ${String(request.payload).slice(0, 300)}`
    throw new Error(`${request.operation.operationId}: ${request.method} ${request.url.slice(0, 300)}${sent} ${wrong}: ${response.body.slice(0, 500)}`)
  }
}

const dataOperations = operations.filter((operation) => !moving.has(operation.operationId))
const migrationOperations = operations.filter((operation) => moving.has(operation.operationId))

t.test('every operation is fuzzed', async (t) => {
  t.ok(dataOperations.length >= 30, `${dataOperations.length} operations that leave the schema alone`)
  t.same(migrationOperations.map((operation: Operation) => operation.operationId).sort(), [...moving].sort())
})

t.test('hostile requests to the operations that leave the schema alone: no 5xx, problems documented', async (t) => {
  // In batches sent at once, as a client pool would: the database answers them side by side.
  const batches = fc.array(hostileRequests(dataOperations, document, hintsFor, tokens.admin), { minLength: batch, maxLength: batch })
  await fc.assert(fc.asyncProperty(batches, async (requests) => { await Promise.all(requests.map((request) => check(app, request))) }), { seed, numRuns: Math.ceil(runs / batch) })
  t.pass(`${Math.ceil(runs / batch) * batch} requests`)
})

t.test('hostile upgrades, downgrades and stamps on a database of their own: no 5xx, problems documented', async (t) => {
  await fc.assert(fc.asyncProperty(hostileRequests(migrationOperations, document, hintsFor, tokens.admin), (request) => check(migrationApp, request)), { seed, numRuns: migrationRuns })
  t.pass(`${migrationRuns} requests`)
})

t.test('the process is still up and no prototype was polluted', async (t) => {
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200, 'the data database is still at head')
  t.same(Object.keys(Object.prototype), [])
  t.equal(({} as Record<string, unknown>).polluted, undefined)
  t.comment(`problem types: ${[...problemTypesSeen].sort().join(' ')}`)
  t.comment(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')}`)
})
