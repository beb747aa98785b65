import t from 'tap'
import type { InjectOptions } from 'fastify'
import { openTargetMigrator } from '../../../src/fleet/targets/connections.js'
import { parseTargetsFile } from '../../../src/fleet/targets/targets-file.js'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { lineRevision, revisionsDir } from '../../helpers/synthetic-revisions.js'

const password = 'Fl33t-pa55word-never-shown'

/** A URL with the password in it (trust authentication ignores it, a leak would not). */
function withPassword (url: string, port?: number): string {
  const parsed = new URL(url)
  parsed.password = password
  if (port !== undefined) parsed.port = String(port)
  return parsed.toString()
}

const targetsYaml = `
environments: [development, testing, production]
self: { name: home, environment: development }
targets:
  - { name: tenant-a, environment: production, url: "\${TENANTS_URL}", schema: tenant_a, labels: { tenant: a, region: eu } }
  - { name: tenant-b, environment: testing, url: "\${TENANTS_URL}", schema: tenant_b, labels: { tenant: b, region: us } }
  - { name: gone, environment: production, url: "\${GONE_URL}", labels: { region: eu } }
groups:
  - name: tenants
    environment: production
    url: "\${TENANTS_URL}"
    labels: { discovered: "yes" }
    discover: { url: "\${TENANTS_URL}", query: "select name, schema, labels from catalog.tenants order by name", refreshMs: 60000 }
`

t.test('targets, discovery and the fleet view over real databases', async (t) => {
  const selfUrl = await createTestDatabase(t, 'fleet_self')
  const tenantsUrl = withPassword(await createTestDatabase(t, 'fleet_tenants'))
  const tenants = testKnex(t, tenantsUrl)
  await tenants.raw('CREATE SCHEMA catalog; CREATE TABLE catalog.tenants (name text PRIMARY KEY, schema text, labels jsonb)')
  await tenants('catalog.tenants').insert({ name: 'disc-1', schema: 'disc_1', labels: { tenant: 'd1', region: 'eu' } })
  const dir = await revisionsDir(t, [
    lineRevision(1, ['CREATE TABLE items (id int)'], ['DROP TABLE items']),
    lineRevision(2, ['CREATE TABLE more_items (id int)'], ['DROP TABLE more_items']),
  ])
  const file = parseTargetsFile(targetsYaml, { TENANTS_URL: tenantsUrl, GONE_URL: withPassword('postgres://postgres@127.0.0.1/nowhere', 1) })
  const logLines: string[] = []
  const app = await buildTestApp(t, selfUrl, { migrationsDir: dir, targets: file, logger: { level: 'info', stream: { write: (line: string) => { logLines.push(line) } } } })
  const bodies: string[] = []
  const inject = async (options: InjectOptions) => {
    const response = await app.inject(options)
    bodies.push(response.body)
    return response
  }

  await app.targets.refresh()
  const tenantA = app.targets.get('tenant-a')
  if (tenantA === undefined) throw new Error('tenant-a is a target')
  const lease = await openTargetMigrator(tenantA, { graph: app.migrator.graph, instance: 'test' })
  await lease.migrator.upgrade({ target: 'head', actor: 'test' })
  await lease.close()
  await app.fleet.invalidate('tenant-a')

  t.test('GET /targets: self, the file\'s and the discovered, passwords shown as ***', async (t) => {
    const response = await inject({ method: 'GET', url: '/targets', headers: bearer('read') })
    t.equal(response.statusCode, 200)
    const { targets, discovery } = response.json<{ targets: Array<Record<string, unknown>>, discovery: Array<Record<string, unknown>> }>()
    t.same(targets.map((target) => [target.name, target.source, target.environment, target.schema]), [
      ['home', 'self', 'development', null],
      ['tenant-a', 'file', 'production', 'tenant_a'],
      ['tenant-b', 'file', 'testing', 'tenant_b'],
      ['gone', 'file', 'production', null],
      ['disc-1', 'discovered', 'production', 'disc_1'],
    ])
    t.match(targets[1]?.url, /^postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/aip_fleet_tenants_/)
    t.same(targets[4]?.labels, { discovered: 'yes', tenant: 'd1', region: 'eu' }, 'the group\'s labels under the row\'s')
    t.match(discovery, [{ group: 'tenants', targets: 1, error: null }])
  })

  t.test('GET /fleet: each target\'s state, the unreachable one beside the others', async (t) => {
    const response = await inject({ method: 'GET', url: '/fleet', headers: bearer('read') })
    t.equal(response.statusCode, 200)
    const fleet = response.json<{ summary: Record<string, number>, targets: Array<Record<string, any>>, nextCursor: string | null }>()
    const byName = Object.fromEntries(fleet.targets.map((target) => [target.name, target]))
    t.same(Object.keys(byName), ['disc-1', 'gone', 'home', 'tenant-a', 'tenant-b'], 'in name order')
    t.match(byName['tenant-a'], { reachable: true, upToDate: true, pending: 0, current: [...app.migrator.graph.heads], inSync: null, lastOperation: { kind: 'upgrade', status: 'succeeded' } })
    t.match(byName['tenant-b'], { reachable: true, upToDate: false, pending: 2, current: [], lastOperation: null })
    t.match(byName.gone, { reachable: false, current: [] })
    t.ok(typeof byName.gone?.checkedAt === 'string', 'an unreachable target was checked')
    t.same(fleet.summary, { total: 5, upToDate: 1, behind: 3, ahead: 0, unreachable: 1, drifted: 0 })
    t.equal(fleet.nextCursor, null)
  })

  t.test('GET /fleet filters by environment and labels, and pages', async (t) => {
    const names = async (query: string) => (await inject({ method: 'GET', url: `/fleet?${query}`, headers: bearer('read') })).json<{ targets: Array<{ name: string }> }>().targets.map((target) => target.name)
    t.same(await names('environment=testing'), ['tenant-b'])
    t.same(await names('label=region:eu'), ['disc-1', 'gone', 'tenant-a'])
    t.same(await names('label=region:eu&label=tenant:a'), ['tenant-a'])
    t.same(await names('environment=production&label=region:us'), [])
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const response = await inject({ method: 'GET', url: `/fleet?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, headers: bearer('read') })
      const page = response.json<{ summary: { total: number }, targets: Array<{ name: string }>, nextCursor: string | null }>()
      t.equal(page.summary.total, 5, 'the summary counts every match, not the page')
      seen.push(...page.targets.map((target) => target.name))
      cursor = page.nextCursor
      pages++
    } while (cursor !== null)
    t.equal(pages, 3)
    t.same(seen, ['disc-1', 'gone', 'home', 'tenant-a', 'tenant-b'])
    const badLabel = await inject({ method: 'GET', url: '/fleet?label=region', headers: bearer('read') })
    t.equal(badLabel.statusCode, 400)
    t.match(badLabel.headers['content-type'], /^application\/problem\+json/)
    const badCursor = await inject({ method: 'GET', url: '/fleet?cursor=not-ours', headers: bearer('read') })
    t.equal(badCursor.statusCode, 400)
    t.equal(badCursor.json<{ type: string }>().type.endsWith('invalid-cursor'), true)
  })

  t.test('a tenant that appears in the catalog is picked up on refresh, without a restart', async (t) => {
    await tenants('catalog.tenants').insert({ name: 'disc-2', schema: 'disc_2', labels: { tenant: 'd2' } })
    const refused = await inject({ method: 'POST', url: '/targets/refresh', headers: bearer('read') })
    t.equal(refused.statusCode, 403, 'refreshing takes the migrate scope')
    const refreshed = await inject({ method: 'POST', url: '/targets/refresh', headers: bearer('migrate') })
    t.equal(refreshed.statusCode, 200)
    t.ok(refreshed.json<{ targets: Array<{ name: string }> }>().targets.some((target) => target.name === 'disc-2'))
    const fleet = await inject({ method: 'GET', url: '/fleet?label=tenant:d2', headers: bearer('read') })
    t.match(fleet.json(), { targets: [{ name: 'disc-2', reachable: true, pending: 2, checkedAt: String }] }, 'read before it is shown')
  })

  t.test('a catalog that cannot be read keeps the last list and says why', async (t) => {
    await tenants.raw('ALTER TABLE catalog.tenants RENAME TO tenants_moved')
    const response = await inject({ method: 'POST', url: '/targets/refresh', headers: bearer('migrate') })
    t.equal(response.statusCode, 200)
    const body = response.json<{ targets: Array<{ name: string }>, discovery: Array<{ error: string | null, targets: number }> }>()
    t.same(body.targets.filter((target) => target.name.startsWith('disc-')).map((target) => target.name), ['disc-1', 'disc-2'])
    t.match(body.discovery, [{ targets: 2, error: /42P01/ }])
    t.ok(logLines.some((line) => line.includes('target discovery failed') && line.includes('"group":"tenants"')), 'the log names the group')
  })

  t.test('/metrics counts targets by state, with no label per target', async (t) => {
    const metrics = (await inject({ method: 'GET', url: '/metrics' })).body
    t.match(metrics, /aip_schema_fleet_targets\{state="unreachable"\} 1/)
    t.match(metrics, /aip_schema_fleet_targets\{state="up-to-date"\} 1/)
    t.notMatch(metrics, /aip_schema_fleet_targets\{[^}]*tenant/)
  })

  t.test('the password is in no answer and no log line', async (t) => {
    t.ok(logLines.some((line) => line.includes('"target":"gone"') && line.includes('unreachable')), 'the unreachable target is logged by name')
    t.ok(bodies.length >= 10, `${bodies.length} answers read`)
    t.same(bodies.filter((body) => body.includes(password)), [])
    t.same(logLines.filter((line) => line.includes(password)), [])
  })
})

t.test('with no targets file the service is its own only target', async (t) => {
  const url = await createTestDatabase(t, 'fleet_alone')
  const dir = await revisionsDir(t, [lineRevision(1, ['CREATE TABLE items (id int)'], ['DROP TABLE items'])])
  const app = await buildTestApp(t, url, { migrationsDir: dir })
  const targets = await app.inject({ method: 'GET', url: '/targets', headers: bearer('read') })
  t.match(targets.json(), { targets: [{ name: 'self', environment: 'default', source: 'self', schema: null, labels: {} }], discovery: [] })
  t.equal(targets.json<{ targets: unknown[] }>().targets.length, 1)
  await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  await app.fleet.invalidate('self')
  const fleet = await app.inject({ method: 'GET', url: '/fleet', headers: bearer('read') })
  t.match(fleet.json(), { summary: { total: 1, upToDate: 1 }, targets: [{ name: 'self', reachable: true, upToDate: true, lastOperation: { kind: 'upgrade' } }] })
  const unauthenticated = await app.inject({ method: 'GET', url: '/fleet' })
  t.equal(unauthenticated.statusCode, 401)
})
