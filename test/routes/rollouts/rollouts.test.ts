import t from 'tap'
import { parseTargetsFile } from '../../../src/fleet/targets/targets-file.js'
import { loadRevisions, RevisionGraph } from '../../../src/migrator/index.js'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase } from '../../helpers/database.js'
import { lineRevision, revisionsDir } from '../../helpers/synthetic-revisions.js'
import { waitFor } from '../../helpers/wait.js'

const url = await createTestDatabase(t, 'rollout_routes')
const password = 'sekret-passw0rd-42'
const withPassword = new URL(url)
withPassword.password = password
const dir = await revisionsDir(t, [
  lineRevision(1, ['CREATE TABLE items (id int)'], ['DROP TABLE items']),
  lineRevision(2, ['CREATE TABLE more_items (id int)'], ['DROP TABLE more_items']),
])
const [head] = RevisionGraph.build(await loadRevisions(dir)).heads

const lines: string[] = []
const logger = { level: 'info', stream: { write: (line: string) => { lines.push(line) } } }
// The URL (with its password) comes from the environment, as a TARGETS_FILE reference to a variable.
const targets = parseTargetsFile(`
environments: [development, production]
self: { name: home, environment: development }
targets:
  - { name: dev-a, environment: development, url: "\${TENANT_URL}", schema: dev_a, labels: { tier: dev } }
${['a', 'b', 'c'].map((name) => `  - { name: tenant-${name}, environment: production, url: "\${TENANT_URL}", schema: tenant_${name}, labels: { tier: paid } }`).join('\n')}
`, { TENANT_URL: withPassword.toString() })
const app = await buildTestApp(t, url, { migrationsDir: dir, dataApi: false, targets, logger })
const bodies: string[] = []
async function call (method: 'GET' | 'POST', path: string, scope: 'read' | 'migrate' | 'admin', payload?: object) {
  const response = await app.inject({ method, url: path, headers: bearer(scope), ...payload === undefined ? {} : { payload } })
  bodies.push(response.body)
  return response
}
async function finished (id: string) {
  let body: { status: string, counts: Record<string, number>, targets: Array<Record<string, unknown>> } = { status: 'queued', counts: {}, targets: [] }
  await waitFor(async () => {
    body = (await call('GET', `/rollouts/${id}`, 'read')).json()
    return ['succeeded', 'failed', 'cancelled'].includes(body.status)
  })
  return body
}

t.test('production is refused until development is at head, with the environment and the targets behind', async (t) => {
  const refused = await call('POST', '/rollouts', 'migrate', { environment: 'production' })
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { type: 'not-promoted', environment: 'development', behind: ['home', 'dev-a'] })
})

t.test('a development rollout: 202 with its Location, then every target at head', async (t) => {
  const created = await call('POST', '/rollouts', 'migrate', { environment: 'development', maxParallel: 2 })
  t.equal(created.statusCode, 202)
  const rollout = created.json()
  t.equal(created.headers.location, `/rollouts/${rollout.id}`)
  t.match(rollout, { verb: 'upgrade', target: 'head', environment: 'development', createdAt: String, finishedAt: null })
  t.same(Object.keys(rollout.counts).sort(), ['cancelled', 'failed', 'pending', 'running', 'skipped', 'succeeded', 'unreachable'])
  const done = await finished(rollout.id)
  t.equal(done.status, 'succeeded')
  t.match(done.targets, [{ name: 'home', status: 'succeeded', before: [], after: [head], steps: 2, operationId: String, problem: null }, { name: 'dev-a', status: 'succeeded', after: [head] }])
  t.notOk('canary' in (done.targets[0] ?? {}), 'only the contract\'s fields')
})

t.test('then production goes, canary first; the list is newest first and paged', async (t) => {
  // Each target's job tells the fleet view it runs (the view's reads hold back meanwhile) and that it ended.
  const jobs = { began: 0, running: 0 }
  const whileMigrating = app.fleet.whileMigrating.bind(app.fleet)
  app.fleet.whileMigrating = () => {
    jobs.began++
    jobs.running++
    const ended = whileMigrating()
    return () => { jobs.running--; ended() }
  }
  t.teardown(() => { app.fleet.whileMigrating = whileMigrating })
  const created = await call('POST', '/rollouts', 'migrate', { environment: 'production', selector: { tier: 'paid' }, canary: '34%', maxParallel: 8 })
  t.equal(created.statusCode, 202)
  const done = await finished(created.json().id)
  t.equal(done.status, 'succeeded')
  t.equal(done.counts.succeeded, 3)
  t.equal(jobs.began, 3, 'each target\'s job told the fleet view it ran')
  await waitFor(async () => jobs.running === 0)
  const first = await call('GET', '/rollouts?limit=1', 'read')
  t.equal(first.json().rollouts[0].id, created.json().id)
  const next = await call('GET', `/rollouts?limit=1&cursor=${first.json().nextCursor as string}`, 'read')
  t.equal(next.json().rollouts[0].environment, 'development')
  t.equal(next.json().nextCursor, null)
})

t.test('the refusals, as problems', async (t) => {
  t.match((await call('POST', '/rollouts', 'migrate', { environment: 'staging' })).json(), { status: 400, type: 'no-targets' })
  t.match((await call('POST', '/rollouts', 'migrate', { verb: 'downgrade', target: 'base', environment: 'development' })).json(), { status: 403, type: 'forbidden' })
  t.match((await call('POST', '/rollouts', 'read', { environment: 'development' })).json(), { status: 403 })
  t.match((await call('POST', '/rollouts', 'migrate', { canary: '150%' })).json(), { status: 400, type: 'validation-failed' })
  t.match((await call('POST', '/rollouts', 'migrate', { maxParallel: 65 })).json(), { status: 400, type: 'validation-failed' })
  const unknown = '00000000-0000-4000-8000-000000000000'
  t.match((await call('GET', `/rollouts/${unknown}`, 'read')).json(), { status: 404, type: 'rollout-not-found' })
  t.match((await call('POST', `/rollouts/${unknown}/pause`, 'migrate')).json(), { status: 404, type: 'rollout-not-found' })
  const last = (await call('GET', '/rollouts?limit=1', 'read')).json().rollouts[0].id as string
  t.match((await call('POST', `/rollouts/${last}/targets/nobody/skip`, 'migrate')).json(), { status: 404, type: 'rollout-target-not-found' })
  for (const action of ['pause', 'resume', 'cancel', 'retry']) {
    t.match((await call('POST', `/rollouts/${last}/${action}`, 'migrate')).json(), { status: 409, type: 'rollout-transition' }, `${action} of a succeeded rollout`)
  }
})

t.test('an admin downgrades production back, past promotion with an override', async (t) => {
  const created = await call('POST', '/rollouts', 'admin', { verb: 'downgrade', target: 'base', environment: 'production', canary: 0, override: { reason: 'rehearsal' } })
  t.equal(created.statusCode, 202, created.body)
  const done = await finished(created.json().id)
  t.equal(done.status, 'succeeded')
  t.match(done.targets[0], { before: [head], after: [] })
})

t.test('the metrics, and no password in any answer or log line', async (t) => {
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /aip_schema_rollout_duration_seconds_count 3/)
  await app.close()
  t.ok(lines.some((line) => line.includes('"rollout"') && line.includes('"target":"tenant-a"')), 'log lines name rollout and target')
  t.notOk(bodies.some((body) => body.includes(password)), 'no answer holds the password')
  t.notOk(lines.some((line) => line.includes(password)), 'no log line holds the password')
})
