import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { bearerSecret } from '../../auth/bearer.js'
import { grants } from '../../auth/tokens.js'
import { problem } from '../../http/problems.js'
import { tokenFingerprint } from '../../review/requester.js'
import { problems } from '../../schemas/common.js'
import { ApproveBodySchema, PlanBodySchema, PlanListQuerySchema, PlanListSchema, PlanParamsSchema, PlanSchema } from '../../schemas/plans.js'

export interface PlanRoutesOptions {
  /** With more than one, the token that asked for a plan may not approve it. */
  readonly adminTokens: number
}

/** Review before apply: a plan runs nothing and takes no lock; approving it is an admin's. */
const planRoutes: FastifyPluginAsyncTypebox<PlanRoutesOptions> = async (fastify, options) => {
  const { review } = fastify
  const requester = (request: { actor: string, headers: { authorization?: string } }) => ({ actor: request.actor, token: tokenFingerprint(bearerSecret(request.headers.authorization)) })

  fastify.post('/migrations/plan', {
    config: { scope: 'migrate' },
    schema: {
      operationId: 'createMigrationPlan',
      tags: ['migrations'],
      summary: 'What an upgrade (or, for admin, a downgrade) would run, linted against the live database; runs nothing',
      security: [{ bearer: ['migrate'] }],
      body: PlanBodySchema,
      'x-body-optional': true,
      response: { 201: Type.Ref(PlanSchema), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const direction = request.body.direction ?? 'upgrade'
    if (direction === 'downgrade') {
      if (request.grantedScope === null || !grants(request.grantedScope, 'admin')) {
        throw problem('forbidden', `a downgrade plan needs the 'admin' scope; the token has '${request.grantedScope ?? 'none'}'`, { requiredScope: 'admin' })
      }
      if (request.body.target === undefined) throw problem('validation-failed', 'body.target is required for a downgrade plan', { field: 'body.target' })
    }
    const plan = await review.plan({ target: request.body.target ?? 'head', direction }, requester(request))
    return reply.code(201).header('location', `/migrations/plans/${plan.id}`).send(plan)
  })

  fastify.get('/migrations/plans', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listMigrationPlans',
      tags: ['migrations'],
      summary: 'Plans, newest first; `status=pending` lists those awaiting approval',
      security: [{ bearer: ['read'] }],
      querystring: PlanListQuerySchema,
      response: { 200: Type.Ref(PlanListSchema), ...problems(400, 401, 403) },
    },
  }, async (request) => ({ plans: await review.list(request.query) }))

  fastify.get('/migrations/plans/:id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getMigrationPlan',
      tags: ['migrations'],
      summary: 'One plan, with its approval',
      security: [{ bearer: ['read'] }],
      params: PlanParamsSchema,
      response: { 200: Type.Ref(PlanSchema), ...problems(400, 401, 403, 404) },
    },
  }, async (request) => review.get(request.params.id))

  fastify.post('/migrations/plans/:id/approve', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'recordMigrationPlanApproval',
      tags: ['migrations'],
      summary: 'Approve a plan (not with the token that asked for it, when there are several admin tokens); errors need `override`',
      security: [{ bearer: ['admin'] }],
      params: PlanParamsSchema,
      body: ApproveBodySchema,
      'x-body-optional': true,
      response: { 200: Type.Ref(PlanSchema), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request) => review.approve(request.params.id, requester(request), {
    override: request.body.override,
    fourEyes: options.adminTokens > 1,
  }))
}

export default planRoutes
