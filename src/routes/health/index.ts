import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
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
      response: { 200: Type.Ref(ReadinessSchema), 503: Type.Ref(ReadinessSchema) },
    },
  }, async (_request, reply) => {
    // From the cached state: a probe costs no query, and another replica's migration shows within a second.
    const { reachable, state } = fastify.schemaState.current
    if (!reachable || state === null) {
      return await reply.code(503).send({
        status: 'unready',
        database: { reachable: false },
        schema: { current: [], heads: [...fastify.migrator.graph.heads], upToDate: false, pending: fastify.migrator.graph.all().length },
      })
    }
    const status = fastify.migrator.statusOf(state)
    return await reply.code(status.upToDate ? 200 : 503).send({
      status: status.upToDate ? 'ready' : 'unready',
      database: { reachable: true },
      schema: { current: status.current, heads: status.heads, upToDate: status.upToDate, pending: status.pending.length },
    })
  })
}

export default health
