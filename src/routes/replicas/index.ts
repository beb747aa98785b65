import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { ReplicaListSchema } from '../../schemas/replicas.js'

/** The rolling deploy made visible: which replica runs which release, and whether it can serve. */
const replicaRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/replicas', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listReplicas',
      tags: ['replicas'],
      summary: 'The replicas of the service seen in the last three heartbeats (45 s by default), with their release and readiness',
      security: [{ bearer: ['read'] }],
      response: { 200: Type.Ref(ReplicaListSchema), ...problems(401, 403, 503) },
    },
  }, async () => ({ replicas: await fastify.replicas.live() }))
}

export default replicaRoutes
