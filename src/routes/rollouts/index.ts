import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { grants } from '../../auth/tokens.js'
import { ProblemError, problemOf } from '../../http/problems.js'
import { problems } from '../../schemas/common.js'
import { RolloutBodySchema, RolloutListQuerySchema, RolloutPageSchema, RolloutParamsSchema, RolloutSchema, RolloutTargetParamsSchema } from '../../schemas/rollouts.js'

const rolloutRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { rollouts } = fastify
  const answer = { 200: Type.Ref(RolloutSchema), ...problems(400, 401, 403, 404, 409) }
  const tags = ['rollouts']

  fastify.post('/rollouts', {
    config: { scope: 'migrate' },
    schema: {
      operationId: 'createRollout',
      tags,
      summary: 'Roll a verb out to the selected targets: the canary first, then waves of `maxParallel`; answers 202 at once',
      security: [{ bearer: ['migrate'] }],
      body: RolloutBodySchema,
      response: { 202: Type.Ref(RolloutSchema), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const { verb = 'upgrade', target = 'head', maxParallel = 4, canary = 1, maxFailures = 0, onError = 'stop', ...rest } = request.body
    const admin = request.grantedScope !== null && grants(request.grantedScope, 'admin')
    if (verb !== 'upgrade' && !admin) throw new ProblemError(problemOf('forbidden', `a ${verb} rollout needs the admin scope`))
    const rollout = await rollouts.create({ verb, target, maxParallel, canary, maxFailures, onError, ...rest }, { actor: request.actor, admin })
    return reply.code(202).header('location', `/rollouts/${rollout.id}`).send(rollout)
  })

  fastify.get('/rollouts', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listRollouts',
      tags,
      summary: 'Rollouts, newest first',
      security: [{ bearer: ['read'] }],
      querystring: RolloutListQuerySchema,
      response: { 200: Type.Ref(RolloutPageSchema), ...problems(400, 401, 403) },
    },
  }, async (request) => rollouts.list(request.query.limit ?? 20, request.query.cursor ?? null))

  fastify.get('/rollouts/:id', {
    config: { scope: 'read' },
    schema: { operationId: 'getRollout', tags, summary: 'A rollout: its counts and each target\'s row', security: [{ bearer: ['read'] }], params: RolloutParamsSchema, response: answer },
  }, async (request) => rollouts.get(request.params.id))

  const actions = [
    ['pause', 'pauseRollout', 'Start no new target; running ones finish'],
    ['resume', 'resumeRollout', 'Go on from where the rollout paused'],
    ['cancel', 'cancelRollout', 'Stop scheduling at once; a running revision finishes or rolls back'],
    ['retry', 'retryRollout', 'Run the failed and unreachable targets again'],
  ] as const
  for (const [action, operationId, summary] of actions) {
    fastify.post(`/rollouts/:id/${action}`, {
      config: { scope: 'migrate' },
      schema: { operationId, tags, summary, security: [{ bearer: ['migrate'] }], params: RolloutParamsSchema, response: answer },
    }, async (request) => rollouts[action](request.params.id))
  }

  fastify.post('/rollouts/:id/targets/:name/skip', {
    config: { scope: 'migrate' },
    schema: { operationId: 'skipRolloutTarget', tags, summary: 'Leave a pending or failed target out of the rollout', security: [{ bearer: ['migrate'] }], params: RolloutTargetParamsSchema, response: answer },
  }, async (request) => rollouts.skip(request.params.id, request.params.name))
}

export default rolloutRoutes
