import Fastify from 'fastify'
import { Registry } from 'prom-client'
import t from 'tap'
import { observeHttpRequests } from '../../src/metrics/http-metrics.js'

/** Every sample of `name` as `labels value` lines, in the registry's own text format. */
async function lines (registry: Registry, name: string): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line.startsWith(`${name}{`))
}

t.test('durations by method, route and status, in cumulative buckets, scrapes and unmatched URLs left out', async (t) => {
  const registry = new Registry()
  const app = Fastify()
  observeHttpRequests(app, registry, ['/metrics'])
  app.get('/fast', async () => 'ok')
  app.get('/slow', async () => { await new Promise((resolve) => setTimeout(resolve, 30)); return 'ok' })
  app.get('/items/:id', async (request, reply) => reply.code((request.params as { id: string }).id === 'x' ? 404 : 200).send('ok'))
  app.get('/metrics', async () => 'scrape')
  t.teardown(() => app.close())

  for (let i = 0; i < 3; i++) await app.inject('/fast')
  await app.inject('/slow')
  await app.inject('/items/1')
  await app.inject('/items/2')
  await app.inject('/items/x')
  await app.inject('/metrics')
  await app.inject('/no/such/route/1')
  await app.inject('/no/such/route/2')

  const counts = await lines(registry, 'http_request_duration_seconds_count')
  t.same(counts.sort(), [
    'http_request_duration_seconds_count{method="GET",route="/fast",status_code="200"} 3',
    'http_request_duration_seconds_count{method="GET",route="/items/:id",status_code="200"} 2',
    'http_request_duration_seconds_count{method="GET",route="/items/:id",status_code="404"} 1',
    'http_request_duration_seconds_count{method="GET",route="/slow",status_code="200"} 1',
  ], 'one series per method, route pattern and status; no scrape, no unmatched URL')

  const slow = await lines(registry, 'http_request_duration_seconds_bucket')
  const bucket = (le: string) => Number(slow.find((line) => line.includes('route="/slow"') && line.includes(`le="${le}"`))?.split(' ').at(-1))
  t.equal(bucket('0.025'), 0, 'a 30 ms request is above 25 ms')
  t.equal(bucket('0.05'), 1, 'and within 50 ms')
  t.equal(bucket('+Inf'), 1)
  const fast = slow.filter((line) => line.includes('route="/fast"')).map((line) => Number(line.split(' ').at(-1)))
  t.equal(fast.length, 12, 'eleven bounds and +Inf')
  t.ok(fast.every((value, i) => i === 0 || value >= (fast[i - 1] as number)), 'cumulative')
  t.equal(fast.at(-1), 3)
  const sum = Number((await lines(registry, 'http_request_duration_seconds_sum')).find((line) => line.includes('route="/slow"'))?.split(' ').at(-1))
  t.ok(sum >= 0.029 && sum < 1, `the sum is the duration Fastify measured (${sum} s)`)

  registry.resetMetrics()
  await app.inject('/fast')
  t.same(await lines(registry, 'http_request_duration_seconds_count').then((all) => all.filter((line) => line.includes('/fast'))),
    ['http_request_duration_seconds_count{method="GET",route="/fast",status_code="200"} 1'], 'a reset zeroes the series, which go on counting')
})
