import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Tracing } from '../tracing/start.js'

/**
 * Spans for every request but the probes, and the trace id on the request's log lines, so
 * that a slow request's logs lead to its trace. Registered before every other plugin and route.
 */
async function tracingPlugin (app: FastifyInstance, tracing: Pick<Tracing, 'fastify'>): Promise<void> {
  await app.register(tracing.fastify.plugin())
  app.addHook('onRequest', async (request, reply) => {
    const otel = request.opentelemetry()
    if (!otel.instrumented || otel.span === null) return
    const { traceId, spanId } = otel.span.spanContext()
    request.log = request.log.child({ traceId, spanId })
    reply.log = request.log
  })
}

export default fp(tracingPlugin, { name: 'tracing', fastify: '5.x' })
