import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { ExperimentCreateSchema, ExperimentListQuerySchema, ExperimentListSchema, ExperimentSchema, IdParamsSchema } from '../../schemas/data.js'
import { found, readSecurity, revisions, writeSecurity } from './common.js'

const experiments: FastifyPluginAsyncTypebox = async (fastify) => {
  const { experiments } = fastify.data
  const tags = ['experiments']

  fastify.post('/experiments', {
    config: { scope: 'write', requiresRevision: revisions.initial },
    schema: {
      operationId: 'createExperiment',
      tags,
      summary: 'Create an experiment on a dataset',
      description: '`datasetId` is required: every experiment belongs to a dataset (`experiments.dataset_id` is NOT NULL).',
      security: writeSecurity,
      body: Type.Ref(ExperimentCreateSchema),
      response: { 201: Type.Ref(ExperimentSchema), ...problems(400, 401, 403, 422, 503) },
    },
  }, async (request, reply) => {
    const experiment = await experiments.create(request.body)
    return reply.code(201).header('location', `/experiments/${experiment.id}`).send(experiment)
  })

  fastify.get('/experiments', {
    config: { scope: 'read', requiresRevision: revisions.initial },
    schema: {
      operationId: 'listExperiments',
      tags,
      summary: "Experiments, newest first, optionally one user's or one dataset's",
      security: readSecurity,
      querystring: ExperimentListQuerySchema,
      response: { 200: Type.Ref(ExperimentListSchema), ...problems(400, 401, 403, 503) },
    },
  }, async (request) => experiments.list(request.query))

  fastify.get('/experiments/:id', {
    config: { scope: 'read', requiresRevision: revisions.initial },
    schema: {
      operationId: 'getExperiment',
      tags,
      summary: 'One experiment',
      security: readSecurity,
      params: IdParamsSchema,
      response: { 200: Type.Ref(ExperimentSchema), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request) => found(await experiments.findById(request.params.id), 'experiment', request.params.id))
}

export default experiments
