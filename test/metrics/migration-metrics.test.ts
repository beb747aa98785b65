import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/database.js'
import { freePort } from '../helpers/server.js'

/** The value of one sample of the Prometheus text format, or undefined when there is none. */
function sample (text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]))
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}

function samples (text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
}

async function scrape (t: Test, app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200, 'scraped without a token')
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  return res.body
}

t.test('after an upgrade through HTTP: one observation per revision, the head, nothing pending', async (t) => {
  const app = await buildTestApp(t, await createTestDatabase(t, 'metrics'))
  const history = (await app.inject({ method: 'GET', url: '/migrations/history', headers: bearer('read') })).json<{ revisions: Array<{ revision: string, isHead: boolean }> }>().revisions
  const head = history.find((entry) => entry.isHead)?.revision ?? ''

  const before = await scrape(t, app)
  t.equal(sample(before, 'aip_schema_pending_revisions'), history.length, 'every revision pending at base')
  t.same(samples(before, 'aip_schema_revision_info'), [], 'no revision at base')
  t.same(samples(before, 'aip_schema_migration_duration_seconds_count'), [], 'nothing migrated yet')

  const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })
  t.equal(upgraded.statusCode, 200)

  const after = await scrape(t, app)
  for (const { revision } of history) {
    t.equal(sample(after, 'aip_schema_migration_duration_seconds_count', { revision, direction: 'up', outcome: 'succeeded' }), 1, `${revision} observed once`)
  }
  t.equal(samples(after, 'aip_schema_migration_duration_seconds_count').length, history.length, 'and nothing else')
  const reported = upgraded.json<{ steps: Array<{ durationMs: number }> }>().steps.reduce((sum, step) => sum + step.durationMs, 0) / 1000
  const observed = samples(after, 'aip_schema_migration_duration_seconds_sum').reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
  t.ok(reported > 0 && Math.abs(observed - reported) < 1e-6, `the durations observed are the steps' own (${observed} s)`)
  t.same(samples(after, 'aip_schema_revision_info'), [`aip_schema_revision_info{revision="${head}"} 1`], 'the head, and only it')
  t.equal(sample(after, 'aip_schema_pending_revisions'), 0)
  t.equal(sample(after, 'aip_schema_lock_wait_seconds_count'), 1, 'the lock was taken once')
  t.equal(sample(after, 'http_request_duration_seconds_count', { method: 'POST', route: '/migrations/upgrade', status_code: '200' }), 1, 'HTTP metrics by route')
  t.ok((sample(after, 'process_resident_memory_bytes') ?? 0) > 0, 'process metrics')
  t.equal(sample(after, 'http_request_duration_seconds_count', { route: '/metrics' }), undefined, 'scrapes are not counted')

  const downgraded = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: '-1' } })
  t.equal(downgraded.statusCode, 200)
  const dryRun = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { dryRun: true } })
  t.equal(dryRun.statusCode, 200)
  const later = await scrape(t, app)
  const [previous] = downgraded.json<{ to: string[] }>().to
  t.equal(sample(later, 'aip_schema_migration_duration_seconds_count', { revision: head, direction: 'down', outcome: 'succeeded' }), 1, 'a downgrade step')
  t.equal(sample(later, 'aip_schema_migration_duration_seconds_count', { revision: head, direction: 'up', outcome: 'dry-run' }), 1, 'a dry run step, apart')
  t.same(samples(later, 'aip_schema_revision_info'), [`aip_schema_revision_info{revision="${previous}"} 1`], 'the revision below the head')
  t.equal(sample(later, 'aip_schema_pending_revisions'), 1)
  t.equal(sample(later, 'aip_schema_lock_wait_seconds_count'), 3)
})

t.test('a failed revision is observed with its outcome', async (t) => {
  const app = await buildTestApp(t, await createTestDatabase(t, 'metrics_failed'), {
    migrationsDir: fileURLToPath(new URL('../fixtures/failing-revisions/', import.meta.url)),
  })
  const res = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })
  t.equal(res.statusCode, 500)
  const { revision } = res.json<{ revision: string }>()
  const text = await scrape(t, app)
  t.equal(sample(text, 'aip_schema_migration_duration_seconds_count', { revision, direction: 'up', outcome: 'failed' }), 1)
  t.equal(samples(text, 'aip_schema_migration_duration_seconds_count').length, 2, 'the good revision before it, and the failure')
  t.equal(sample(text, 'aip_schema_pending_revisions'), 1, 'the failed revision is still pending')
  t.equal(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/migrations/upgrade', status_code: '500' }), 1)
})

t.test('a database that does not answer: pending is NaN and no revision is shown, the scrape still answers', async (t) => {
  const app = await buildTestApp(t, `postgres://postgres@127.0.0.1:${await freePort()}/nothing_here`)
  const text = await scrape(t, app)
  t.match(text, /# TYPE aip_schema_pending_revisions gauge/)
  t.equal(samples(text, 'aip_schema_pending_revisions').length, 1)
  // prom-client writes NaN as `Nan`, which Prometheus reads as NaN.
  t.ok(Number.isNaN(sample(text, 'aip_schema_pending_revisions')), 'unknown, not 0')
  t.same(samples(text, 'aip_schema_revision_info'), [])
  t.ok((sample(text, 'process_cpu_user_seconds_total') ?? -1) >= 0, 'the rest is still there')
})
