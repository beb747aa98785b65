import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'
import { createTestDatabase } from '../../helpers/database.js'

const url = await createTestDatabase(t, 'status_page')
const app = await buildTestApp(t, url)

function policyOf (header: string | string[] | number | undefined): Map<string, string> {
  return new Map(String(header).split(';').map((directive) => directive.trim().split(/\s+/)).map(([name = '', ...values]) => [name, values.join(' ')]))
}

t.test('/ and /status serve the page as HTML, with no token', async (t) => {
  for (const path of ['/', '/status']) {
    const response = await app.inject({ url: path })
    t.equal(response.statusCode, 200, path)
    t.match(response.headers['content-type'], /^text\/html/, path)
    t.match(response.body, /<title>aip-schema status<\/title>/, path)
    t.equal(response.headers['cache-control'], 'no-store', path)
  }
})

t.test("the page's own policy: this origin's scripts and styles only, nothing inline, no framing", async (t) => {
  const policy = policyOf((await app.inject({ url: '/' })).headers['content-security-policy'])
  t.equal(policy.get('default-src'), "'none'")
  t.equal(policy.get('script-src'), "'self'")
  t.equal(policy.get('style-src'), "'self'")
  t.equal(policy.get('connect-src'), "'self'")
  t.equal(policy.get('frame-ancestors'), "'none'")
  t.notMatch([...policy.values()].join(' '), /unsafe-inline|unsafe-eval|https:|\*/, 'no inline, eval or other origin')
  const html = (await app.inject({ url: '/' })).body
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  t.notMatch(html, /\sstyle=|<style/, 'no inline style')
})

t.test('the JSON API keeps its own policy', async (t) => {
  const policy = policyOf((await app.inject({ url: '/health/live' })).headers['content-security-policy'])
  t.equal(policy.get('default-src'), "'none'")
  t.notOk(policy.has('script-src'))
})

t.test('the assets and dagre are served from the service, as JavaScript and CSS', async (t) => {
  for (const [path, type] of [['/status/assets/js/main.js', /^(text|application)\/javascript/], ['/status/assets/style.css', /^text\/css/], ['/status/vendor/dagre.esm.js', /^(text|application)\/javascript/]] as const) {
    const response = await app.inject({ url: path })
    t.equal(response.statusCode, 200, path)
    t.match(response.headers['content-type'], type, path)
  }
})

t.test('nothing else is reachable through the static routes', async (t) => {
  for (const path of ['/status/assets/nothing.js', '/status/assets/../../package.json', '/status/assets/%2e%2e/%2e%2e/package.json', '/status/vendor/dagre.cjs', '/status/vendor/../package.json']) {
    const response = await app.inject({ url: path })
    t.equal(response.statusCode, 404, path)
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', path)
  }
})

t.test('the page is not in the OpenAPI document; /replicas is', async (t) => {
  const document = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> }
  t.notOk('/' in document.paths)
  t.notOk(Object.keys(document.paths).some((path) => path.startsWith('/status')))
  t.ok('/replicas' in document.paths)
  t.ok('/migrations/plans' in document.paths)
  t.ok('/auth/whoami' in document.paths)
})
