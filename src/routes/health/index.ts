import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LiveSchema, ReadinessSchema } from '../../schemas/health.js'

const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/health/live', {
    schema: {
      operationId: 'getLiveness',
      tags: ['health'],
      summary: 'The process serves; touches no database',
      response: { 200: LiveSchema },
    },
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/health/ready', {
    schema: {
      operationId: 'getReadiness',
      tags: ['health'],
      summary: 'The database answers and the schema is at head',
      response: { 200: ReadinessSchema, 503: ReadinessSchema },
    },
  }, async (request, reply) => {
    const heads = [...fastify.migrator.graph.heads]
    try {
      const status = await fastify.migrator.status()
      return await reply.code(status.upToDate ? 200 : 503).send({
        status: status.upToDate ? 'ready' : 'unready',
        database: { reachable: true },
        schema: { current: status.current, heads: status.heads, upToDate: status.upToDate, pending: status.pending.length },
      })
    } catch (error) {
      request.log.warn({ err: error }, 'readiness: database unreachable')
      return await reply.code(503).send({
        status: 'unready',
        database: { reachable: false },
        schema: { current: [], heads, upToDate: false, pending: fastify.migrator.graph.all().length },
      })
    }
  })
}

export default health
