import { fileURLToPath } from 'node:url'
import t from 'tap'
import { SpanStatusCode } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { startTracing } from '../../src/tracing/start.js'

// Started before the app exists, as the server does; `pg` is patched when Knex requires it.
const exporter = new InMemorySpanExporter()
const processor = new SimpleSpanProcessor({ exporter })
const tracing = startTracing({ spanProcessors: [processor] })
t.teardown(() => tracing.shutdown())

const { buildTestApp, bearer } = await import('../helpers/app.js')
const { createTestDatabase } = await import('../helpers/database.js')

const databaseUrl = await createTestDatabase(t, 'tracing')
const app = await buildTestApp(t, databaseUrl, { tracing })

/** The spans ended so far: a span is exported once the resource's attributes are known. */
async function finishedSpans (): Promise<ReadableSpan[]> {
  await processor.forceFlush()
  return exporter.getFinishedSpans()
}

function childrenOf (spans: ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)
}

function descendantsOf (spans: ReadableSpan[], root: ReadableSpan): ReadableSpan[] {
  return childrenOf(spans, root).flatMap((child) => [child, ...descendantsOf(spans, child)])
}

t.test('an upgrade is one tree: request, operation, lock wait, a step per revision, its statements', async (t) => {
  exporter.reset()
  const answer = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(answer.statusCode, 200)
  const applied = (answer.json() as { steps: Array<{ revision: string }> }).steps.map((step) => step.revision)
  t.ok(applied.length >= 5, `the shipped revisions ran (${applied.length})`)
  const spans = await finishedSpans()
  const requests = spans.filter((span) => span.name === 'request' && span.attributes['http.route'] === '/migrations/upgrade')
  t.equal(requests.length, 1, 'one request span for the upgrade')
  const [request] = requests as [ReadableSpan]
  const operations = descendantsOf(spans, request).filter((span) => span.name === 'migration operation')
  t.equal(operations.length, 1, 'one operation span under the request')
  const [operation] = operations as [ReadableSpan]
  t.match(operation.attributes, { 'aip_schema.operation.kind': 'upgrade', 'aip_schema.target': 'head', 'aip_schema.dry_run': false })
  const waits = childrenOf(spans, operation).filter((span) => span.name === 'migration lock wait')
  t.equal(waits.length, 1, 'the wait for the lock is a child of the operation')
  t.ok(childrenOf(spans, waits[0] as ReadableSpan).some((span) => /pg_try_advisory_lock/.test(String(span.attributes['db.query.text']))), 'the lock is taken inside its wait')
  const steps = descendantsOf(spans, operation).filter((span) => span.name === 'migration step')
  // A revision a shared transaction ran again (its group retried) has a span per run.
  t.same([...new Set(steps.map((span) => span.attributes['aip_schema.revision']))].sort(), [...applied].sort(), 'a step span for each revision applied, none for another')
  t.ok(steps.every((span) => span.attributes['aip_schema.direction'] === 'up' && typeof span.attributes['aip_schema.tries'] === 'number'), 'each names its direction and tries')
  const statements = steps.flatMap((step) => childrenOf(spans, step)).filter((span) => span.attributes['db.system.name'] === 'postgresql')
  t.ok(statements.some((span) => /CREATE TABLE/i.test(String(span.attributes['db.query.text']))), "a revision's CREATE TABLE is a statement span under its step")
  t.ok(descendantsOf(spans, request).every((span) => span.spanContext().traceId === request.spanContext().traceId), 'one trace')
})

t.test('a failed revision: its step and its operation are marked failed', async (t) => {
  const failing = await buildTestApp(t, await createTestDatabase(t, 'tracing_failing'), {
    tracing,
    groupMs: 0,
    migrationsDir: fileURLToPath(new URL('../fixtures/failing-revisions/', import.meta.url)),
  })
  exporter.reset()
  const answer = await failing.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(answer.statusCode, 500)
  const spans = await finishedSpans()
  const operation = spans.find((span) => span.name === 'migration operation')
  t.equal(operation?.status.code, SpanStatusCode.ERROR, 'the operation failed')
  const steps = spans.filter((span) => span.name === 'migration step')
  t.same(steps.map((span) => [span.attributes['aip_schema.revision'], span.status.code]), [['aaaaaaaaaaaa', SpanStatusCode.UNSET], ['bbbbbbbbbbbb', SpanStatusCode.ERROR]],
    'the good revision ran, the bad one is the failed step')
  t.match(steps.at(-1)?.events.map((event) => event.name), ['exception'], 'with its exception')
})

t.test('probes are not traced', async (t) => {
  exporter.reset()
  for (const url of ['/health/live', '/health/ready', '/metrics']) t.equal((await app.inject({ url })).statusCode, 200, url)
  t.same((await finishedSpans()).map((span) => span.name), [], 'no span at all, not even their statements')
})

t.test('no span carries a password or a bound value', async (t) => {
  exporter.reset()
  const secret = 'a-user-value-never-in-a-span'
  const answer = await app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email: 'tracer@example.com', name: secret } })
  t.equal(answer.statusCode, 201)
  const spans = await finishedSpans()
  const text = JSON.stringify(spans.map((span) => span.attributes))
  t.ok(spans.length > 0, 'the request was traced')
  t.notMatch(text, secret, 'the bound value stays out')
  t.notMatch(text, /postgres:\/\/[^@/]*:[^@/]*@/, 'no URL with a password')
})

t.test("a request's log lines carry its trace id", async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } }
  const logged = await buildTestApp(t, databaseUrl, { tracing, logger: { level: 'info', stream } })
  exporter.reset()
  const answer = await logged.inject({ url: '/migrations/current', headers: bearer('read') })
  t.equal(answer.statusCode, 200)
  const request = (await finishedSpans()).find((span) => span.name === 'request')
  t.ok(request, 'the request was traced')
  const completed = lines.find((line) => line.msg === 'request completed')
  t.ok(completed, 'the request was logged')
  t.equal(completed?.traceId, request?.spanContext().traceId, 'its log line names its trace')
  lines.length = 0
  await logged.inject({ url: '/health/live' })
  t.ok(lines.length > 0 && lines.every((line) => line.traceId === undefined), 'a probe has no trace id to log')
})
