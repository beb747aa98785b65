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
      summary: 'The database answers and the schema is at head, or compatibly ahead of it',
      response: { 200: Type.Ref(ReadinessSchema), 503: Type.Ref(ReadinessSchema) },
    },
  }, async (_request, reply) => {
    // From the cached state: a probe costs no query, and another replica's migration shows within a second.
    const { reachable, state } = fastify.schemaState.current
    if (!reachable || state === null) {
      return await reply.code(503).send({
        status: 'unready',
        database: { reachable: false },
        schema: { current: [], heads: [...fastify.migrator.graph.heads], upToDate: false, pending: fastify.migrator.graph.all().length, ahead: [], breaking: [], interrupted: null },
      })
    }
    // Ready at this code's heads, and behind a newer release that only expanded the schema: a rolling deploy keeps serving.
    const { status, serviceable } = fastify.migrator.viewOf(state)
    return await reply.code(serviceable ? 200 : 503).send({
      status: serviceable ? 'ready' : 'unready',
      database: { reachable: true },
      schema: { ...status, pending: status.pending.length },
    })
  })
}

export default health
