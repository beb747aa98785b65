import { FastifyOtelInstrumentation } from '@fastify/otel'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { NodeSDK } from '@opentelemetry/sdk-node'
import type { SpanProcessor } from '@opentelemetry/sdk-trace'

export interface Tracing {
  /** Registered first by the app, so that it sees every route and hook. */
  readonly fastify: FastifyOtelInstrumentation
  shutdown (): Promise<void>
}

// Probes run every few seconds on every replica: traced, they would bury the requests that matter.
const untracedPaths = new Set(['/health/live', '/health/ready', '/metrics'])

/**
 * The OpenTelemetry SDK with the Fastify ecosystem's own instrumentation and node-postgres'.
 * Exporters, sampler and resource come from the standard `OTEL_*` variables; tests pass their
 * own span processors instead. Started before the app is built: `pg` is patched when Knex
 * first requires it.
 */
export function startTracing (options: { readonly spanProcessors?: SpanProcessor[] } = {}): Tracing {
  const fastify = new FastifyOtelInstrumentation({ ignorePaths: (route) => untracedPaths.has(route.url) })
  // A statement outside any request or operation (the schema-state refresh, LISTEN) is no one's
  // child; parameters stay out of spans: they carry users' data.
  const pg = new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false })
  // Traces only: metrics are Prometheus' (/metrics) and logs pino's, whatever OTEL_*_EXPORTER says.
  const sdk = new NodeSDK({
    serviceName: 'aip-schema',
    instrumentations: [fastify, pg],
    spanProcessors: options.spanProcessors,
    metricReaders: [],
    logRecordProcessors: [],
  })
  sdk.start()
  return { fastify, shutdown: () => sdk.shutdown() }
}
