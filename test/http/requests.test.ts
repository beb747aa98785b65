import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { parseTarget } from '../../src/migrator/index.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/database.js'

/** What an outside API tester found (issue #21 §5), through the real routes of the app. */
const app: FastifyInstance = await buildTestApp(t, await createTestDatabase(t, 'http_requests'))

interface DocumentOperation { requestBody?: { content?: Record<string, unknown> } }
interface Document {
  paths: Record<string, Record<string, DocumentOperation>>
  info: { description: string }
}
const document = (await app.inject({ url: '/openapi.json' })).json<Document>()
const json = { ...bearer('admin'), 'content-type': 'application/json' }
const someId = '6f1c1c52-4b8e-4d55-a1a3-6f2f0c1d0e55'
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, someId)
const current = async () => (await app.inject({ url: '/migrations/current', headers: bearer('read') })).json<{ current: string[] }>().current

t.test('a JSON null is a body, and not an object: 400, and nothing runs', async (t) => {
  for (const url of ['/migrations/upgrade', '/migrations/downgrade', '/migrations/stamp', '/migrations/plan']) {
    const res = await app.inject({ method: 'POST', url, headers: json, payload: 'null' })
    t.equal(res.statusCode, 400, `POST ${url}`)
    t.match(res.json(), { type: 'validation-failed', field: 'body' }, `POST ${url}`)
  }
  t.same(await current(), [], 'the null upgrade ran nothing')
  const plan = await app.inject({ method: 'POST', url: '/migrations/plan', headers: bearer('admin') })
  t.equal(plan.statusCode, 201, 'a plan without a body still means head')
  const approve = await app.inject({ method: 'POST', url: `/migrations/plans/${plan.json().id}/approve`, headers: json, payload: 'null' })
  t.equal(approve.statusCode, 400)
  t.equal((await app.inject({ url: `/migrations/plans/${plan.json().id}`, headers: bearer('read') })).json().approval, null, 'not approved')

  const bare = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate') })
  t.equal(bare.statusCode, 200, 'a bare upgrade, with no body at all, goes to head')
  t.not((await current()).length, 0)

  const withBodies = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item)
    .filter(([, operation]) => operation.requestBody?.content?.['application/json'] !== undefined)
    .map(([method]) => ({ method: method.toUpperCase() as 'POST', url: concrete(path) })))
  t.ok(withBodies.length >= 13, `${withBodies.length} operations take a JSON body`)
  for (const { method, url } of withBodies) {
    const res = await app.inject({ method, url, headers: json, payload: 'null' })
    t.equal(res.statusCode, 400, `${method} ${url}: ${res.body.slice(0, 200)}`)
    t.equal(res.json().type, 'validation-failed', `${method} ${url}`)
  }
})

t.test('an undocumented method on a real path: 405 with the methods of the path in Allow', async (t) => {
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
  for (const [path, item] of Object.entries(document.paths)) {
    const documented = Object.keys(item).map((method) => method.toUpperCase())
    const allowed = [...documented, ...(documented.includes('GET') ? ['HEAD'] : [])].sort()
    const other = methods.find((method) => !allowed.includes(method))
    if (other === undefined) continue
    const res = await app.inject({ method: other, url: concrete(path), headers: bearer('admin') })
    t.equal(res.statusCode, 405, `${other} ${path}`)
    t.equal(res.headers.allow, allowed.join(', '), `${other} ${path}: Allow`)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { type: 'method-not-allowed', status: 405, allowed })
  }
  const trace = await app.inject({ method: 'TRACE' as 'GET', url: '/users', headers: bearer('admin') })
  t.equal(trace.statusCode, 405, 'TRACE too')
  t.equal(trace.headers.allow, 'GET, HEAD, POST')
  const unknown = await app.inject({ method: 'DELETE', url: '/nowhere', headers: bearer('admin') })
  t.equal(unknown.statusCode, 404, 'a path no route has stays 404')
  t.equal(unknown.headers.allow, undefined)
})

t.test('a text/plain body on a JSON route: 415, like any media type the route does not take', async (t) => {
  const before = await current()
  for (const [url, payload] of [['/users', '{"email":"a@example.com","name":"a"}'], ['/migrations/upgrade', 'head'], ['/migrations/downgrade', 'base']] as const) {
    const res = await app.inject({ method: 'POST', url, headers: { ...bearer('admin'), 'content-type': 'text/plain' }, payload })
    t.equal(res.statusCode, 415, url)
    t.equal(res.json().type, 'unsupported-media-type', url)
  }
  t.same(await current(), before, 'nothing ran')
})

t.test('email: what JSON Schema\'s format accepts (RFC 5321 Mailbox), and nothing else', async (t) => {
  let serial = 0
  const create = (email: string) => app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email, name: `mailbox-${++serial}` } })
  for (const email of ['a@localhost', '"a b"@example.com', 'a@[127.0.0.1]', 'a@[IPv6:::1]', 'te~st@example.com', '"joe@bloggs"@example.com']) {
    const res = await create(email)
    t.equal(res.statusCode, 201, `${email}: ${res.body.slice(0, 200)}`)
    t.equal(res.json().email, email)
  }
  for (const email of ['plain', 'a@b@c', '.a@example.com', 'a..b@example.com', 'a@-x.com', 'a@x.', 'a@[127.0.0.300]', 'a@[IPv6:::12345]', 'é@example.com', `${'a'.repeat(65)}@example.com`]) {
    const res = await create(email)
    t.equal(res.statusCode, 400, email)
    t.match(res.json(), { type: 'validation-failed', field: 'body.email' }, email)
  }
})

t.test('the target grammar is a pattern in the document, and the server keeps to it', async (t) => {
  const upgradeBody = document.paths['/migrations/upgrade']?.post?.requestBody?.content?.['application/json'] as { schema: { properties: { target: { pattern: string } } } }
  const pattern = upgradeBody.schema.properties.target.pattern
  t.type(pattern, 'string', 'the upgrade body\'s target has a pattern')
  const grammar = new RegExp(pattern)
  const samples = ['head', 'heads', 'base', '+1', '-1', '+999999', '5c1b', '5c1b6116de51', '5c1b-1', 'a1b2+2', 'head+1', 'base+1', 'a'.repeat(64), `${'a'.repeat(64)}+1`,
    '', '+0', '-0', '+01', '+1000000', 'heads+1', 'heads-1', 'a'.repeat(65), '5c1b6116de51@head', '1.5', 'a-b', ' head', 'head ', 'x\u0000', 'é']
  for (const target of samples) {
    const matches = grammar.test(target)
    let parses = true
    try { parseTarget(target) } catch { parses = false }
    t.equal(parses, matches, `${JSON.stringify(target)}: the engine's parser and the pattern agree`)
    const res = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: json, payload: { target, dryRun: true } })
    const refused = res.statusCode === 400 && res.json().type === 'validation-failed' && res.json().field === 'body.target'
    t.equal(refused, !matches, `${JSON.stringify(target)}: ${res.statusCode} ${res.body.slice(0, 120)}`)
  }
  t.match(document.info.description, /U\+0000/, 'the U+0000 rule is in the document')
  const nul = await app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email: 'nul@example.com', name: 'a\u0000b' } })
  t.match(nul.json(), { type: 'validation-failed', field: 'body.name' }, 'and the server keeps it')
})
