import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase } from '../../helpers/database.js'

const url = await createTestDatabase(t, 'auth')
const app = await buildTestApp(t, url)

const routes: Array<{ method: 'GET' | 'POST', url: string, payload?: object, scope: 'read' | 'migrate' | 'admin' }> = [
  { method: 'GET', url: '/migrations/current', scope: 'read' },
  { method: 'GET', url: '/migrations/heads', scope: 'read' },
  { method: 'GET', url: '/migrations/history', scope: 'read' },
  { method: 'GET', url: '/migrations/revisions/5c1b', scope: 'read' },
  { method: 'GET', url: '/migrations/operations', scope: 'read' },
  { method: 'POST', url: '/migrations/upgrade', payload: { target: 'head', dryRun: true }, scope: 'migrate' },
  { method: 'POST', url: '/migrations/downgrade', payload: { target: 'base' }, scope: 'admin' },
  { method: 'POST', url: '/migrations/stamp', payload: { target: 'heads' }, scope: 'migrate' },
]
const ranks = ['read', 'write', 'migrate', 'admin'] as const

for (const route of routes) {
  t.test(`${route.method} ${route.url}`, async (t) => {
    const none = await app.inject({ method: route.method, url: route.url, payload: route.payload })
    t.equal(none.statusCode, 401, 'no token')
    t.equal(none.headers['www-authenticate'], 'Bearer realm="aip-schema"')
    t.match(none.headers['content-type'], /^application\/problem\+json/)
    const wrong = await app.inject({ method: route.method, url: route.url, payload: route.payload, headers: { authorization: 'Bearer not-a-token' } })
    t.equal(wrong.statusCode, 401, 'unknown token')
    const malformed = await app.inject({ method: route.method, url: route.url, payload: route.payload, headers: { authorization: 'Basic abc' } })
    t.equal(malformed.statusCode, 401, 'not a bearer token')
    const below = ranks[ranks.indexOf(route.scope) - 1]
    if (below !== undefined) {
      const low = await app.inject({ method: route.method, url: route.url, payload: route.payload, headers: bearer(below) })
      t.equal(low.statusCode, 403, `scope ${below} is too low`)
      t.equal(low.json().requiredScope, route.scope)
    }
    const ok = await app.inject({ method: route.method, url: route.url, payload: route.payload, headers: bearer(route.scope) })
    t.equal(ok.statusCode, 200, `scope ${route.scope} is enough`)
  })
}

t.test('health needs no token', async (t) => {
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200, 'stamped to head above')
})
