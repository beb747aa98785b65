import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { FleetQuerySchema, FleetSchema, TargetListSchema } from '../../schemas/fleet.js'
import { InvalidFleetQueryError, labelSelector } from '../../fleet/status/query.js'
import { redactedUrl } from '../../fleet/targets/target.js'
import { problem } from '../../http/problems.js'

/** The targets and the fleet's status: answered from memory, never from a target's database. */
const fleetRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { targets, fleet } = fastify

  const targetList = () => ({
    targets: targets.list().map((target) => ({
      name: target.name,
      environment: target.environment,
      labels: target.labels,
      schema: target.schema,
      url: redactedUrl(target.url),
      source: target.source,
    })),
    discovery: targets.discovery().map((state) => ({ group: state.group, targets: state.targets.length, refreshedAt: state.refreshedAt, error: state.error })),
  })

  fastify.get('/targets', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listTargets',
      tags: ['fleet'],
      summary: 'The targets: the service\'s own database, TARGETS_FILE\'s, and the discovered ones (passwords shown as ***)',
      security: [{ bearer: ['read'] }],
      response: { 200: Type.Ref(TargetListSchema), ...problems(401, 403) },
    },
  }, async () => targetList())

  fastify.post('/targets/refresh', {
    config: { scope: 'migrate' },
    schema: {
      operationId: 'updateDiscoveredTargets',
      tags: ['fleet'],
      summary: 'Reads every discovery catalog now (an addition to the contract); a catalog that cannot be read keeps its last list',
      security: [{ bearer: ['migrate'] }],
      response: { 200: Type.Ref(TargetListSchema), ...problems(401, 403) },
    },
  }, async () => {
    await targets.refresh()
    return targetList()
  })

  fastify.get('/fleet', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getFleet',
      tags: ['fleet'],
      summary: 'Every target\'s revision, from a cache read in the background; filtered by environment and labels, paged',
      security: [{ bearer: ['read'] }],
      querystring: FleetQuerySchema,
      response: { 200: Type.Ref(FleetSchema), ...problems(400, 401, 403) },
    },
  }, async (request) => {
    const { environment, label = [], limit, cursor } = request.query
    try {
      return await fleet.page({ environment, labels: labelSelector(label), limit, cursor })
    } catch (error) {
      if (error instanceof InvalidFleetQueryError) throw problem(error.message.startsWith('cursor') ? 'invalid-cursor' : 'validation-failed', error.message, { field: 'querystring' })
      throw error
    }
  })
}

export default fleetRoutes
