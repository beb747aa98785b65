import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { parseApiTokens } from '../src/auth/tokens.js'
import type { HttpLimits } from '../src/config.js'
import { loggerOptions } from '../src/logging/options.js'
import { bearer, tokens } from './helpers/app.js'
import { createTestDatabase } from './helpers/database.js'

const limits: HttpLimits = { jsonBodyLimitBytes: 2048, migrationsPerMinute: 3, writesPerMinute: 4 }

/** The app at head with tight limits, logging at trace into `lines` with the server's own logger options. */
async function buildHardenedApp (t: Test, lines: string[]): Promise<FastifyInstance> {
  const url = await createTestDatabase(t, 'hardening')
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter((line) => line !== ''))
      done()
    },
  })
  const app = await buildApp({
    databaseUrl: url,
    logger: { ...loggerOptions('trace'), stream },
    config: {
      auth: { disabled: false, tokens: parseApiTokens(Object.entries(tokens).map(([scope, token]) => `${scope}=${token}`).join(',')) },
      lock: { waitMs: 10_000, lockTimeoutMs: 10_000 },
      fittedTransformerMaxBytes: 1024 * 1024,
      http: limits,
    },
  })
  t.teardown(() => app.close())
  const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })
  if (upgraded.statusCode !== 200) throw new Error(`upgrade failed: ${upgraded.body}`)
  return app
}

function assertProblem (t: Test, res: LightMyRequestResponse, status: number, type: string): void {
  t.equal(res.statusCode, status)
  t.match(res.headers['content-type'], /^application\/problem\+json/, `${status} is problem+json`)
  const body = res.json<{ type: string, status: number, requestId: string }>()
  t.match(body, { type, status })
  t.equal(body.requestId, res.headers['x-request-id'], 'the problem names the request id the response header carries')
}

// One app for the file: the subtests share its rate-limit budgets, so each counts what is left.
const lines: string[] = []
const app = await buildHardenedApp(t, lines)

t.test('security headers on API answers and on /docs, which still loads', async (t) => {
  const live = await app.inject({ url: '/health/live' })
  t.same(Object.fromEntries(Object.entries(live.headers).filter(([name]) => /^(cache-control|content-security-policy|x-content-type-options|x-frame-options)$/.test(name))), {
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  }, "OWASP's REST set on a JSON answer")
  t.equal(live.headers['strict-transport-security'], undefined, 'HSTS is the TLS terminator\'s to send')
  t.match(live.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  const missing = await app.inject({ url: '/no/such/route' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.headers['x-content-type-options'], 'nosniff', 'a 404 carries them too')
  const unauthorized = await app.inject({ url: '/migrations/current' })
  t.equal(unauthorized.statusCode, 401)
  t.equal(unauthorized.headers['x-frame-options'], 'DENY', 'a 401 carries them too')

  const docs = await app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-security-policy'], /script-src 'self'/, "the UI page gets helmet's page policy")
  t.notMatch(docs.headers['content-security-policy'], /upgrade-insecure-requests/, 'plain HTTP assets are not upgraded')
  t.equal(docs.headers['x-frame-options'], 'SAMEORIGIN')
  t.equal(docs.headers['referrer-policy'], 'no-referrer')
  t.equal(docs.headers['cache-control'], undefined, 'the UI may be cached')
  const scripts = [...docs.body.matchAll(/<script src="([^"]+)"/g)].map(([, src]) => src ?? '')
  t.ok(scripts.length >= 3, 'the UI loads its scripts')
  for (const src of scripts) {
    t.notMatch(src, /^(https?:)?\/\//, `${src} is same-origin, which script-src 'self' allows`)
    const asset = await app.inject({ url: new URL(src, 'http://service/docs/').pathname })
    t.equal(asset.statusCode, 200, `${src} is served`)
  }
  t.notMatch(docs.body, /<script>/, 'no inline script, which the policy would block')
  t.equal((await app.inject({ url: '/docs/json' })).statusCode, 200, 'the document the UI reads')
})

t.test('bodies over the route\'s limit: 413 problem', async (t) => {
  const big = { email: 'big@example.com', name: 'x'.repeat(limits.jsonBodyLimitBytes) }
  assertProblem(t, await app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: big }), 413, 'ctp-body-too-large')
  const small = await app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email: 'small@example.com', name: 'small' } })
  t.equal(small.statusCode, 201, 'under the limit it is created')
  const migration = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'h'.repeat(17 * 1024) } })
  assertProblem(t, migration, 413, 'ctp-body-too-large')
})

/** Posts until the route answers 429; the answers before it must all be `allowed`. */
async function exhaust (t: Test, request: () => Promise<LightMyRequestResponse>, allowed: number, limit: number): Promise<LightMyRequestResponse> {
  for (let attempt = 0; attempt <= limit; attempt++) {
    const res = await request()
    if (res.statusCode === 429) return res
    t.equal(res.statusCode, allowed)
    t.equal(Number(res.headers['x-ratelimit-limit']), limit, 'the limit configured for the route')
  }
  throw new Error(`no 429 after ${limit + 1} requests`)
}

t.test('mutating routes are rate limited per client and route: 429 problem; reads are not', async (t) => {
  const upgrade = () => app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })
  const limited = await exhaust(t, upgrade, 200, limits.migrationsPerMinute)
  assertProblem(t, limited, 429, 'rate-limited')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when')
  t.equal((await app.inject({ method: 'POST', url: '/migrations/stamp', headers: bearer('admin'), payload: { target: 'head' } })).statusCode, 200, 'another route has a budget of its own')

  let user = 0
  const createUser = () => app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email: `u${++user}@example.com`, name: `u${user}` } })
  assertProblem(t, await exhaust(t, createUser, 201, limits.writesPerMinute), 429, 'rate-limited')

  for (let i = 0; i < 10; i++) {
    t.equal((await app.inject({ url: '/migrations/current', headers: bearer('read') })).statusCode, 200)
  }
  t.equal((await app.inject({ url: '/users', headers: bearer('read') })).statusCode, 200, 'reads go on')
})

t.test('request ids in problems and request logs; the token never in the log', async (t) => {
  assertProblem(t, await app.inject({ url: '/migrations/current', headers: { authorization: 'Bearer not-a-token-of-ours' } }), 401, 'unauthorized')
  assertProblem(t, await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('migrate'), payload: { target: 'base' } }), 403, 'forbidden')
  assertProblem(t, await app.inject({ url: '/nowhere', headers: bearer('read') }), 404, 'not-found')
  t.equal((await app.inject({ url: '/migrations/current', headers: bearer('admin') })).statusCode, 200)
  app.log.info({ req: { headers: { ...bearer('admin') } }, headers: { ...bearer('admin') } }, 'a request logged whole')

  const log = lines.join('\n')
  for (const secret of [...Object.values(tokens), 'not-a-token-of-ours']) t.notOk(log.includes(secret), `${secret} is not in the log`)
  t.match(log, /"authorization":"\[redacted\]"/, 'a logged header is censored')
  const requestLines = lines.map((line) => JSON.parse(line) as { req?: unknown, res?: unknown, reqId?: string }).filter((entry) => entry.req !== undefined || entry.res !== undefined)
  t.ok(requestLines.length >= 8, 'every request logged')
  t.ok(requestLines.filter((entry) => entry.reqId === undefined).length <= 1, 'every request line carries its request id (the whole-request line above is not a request\'s)')
})
