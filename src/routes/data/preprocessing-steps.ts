import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import {
  IdParamsSchema, PreprocessingStepCreateSchema, PreprocessingStepListQuerySchema, PreprocessingStepListSchema,
  PreprocessingStepPatchSchema, PreprocessingStepSchema,
} from '../../schemas/data.js'
import { found, notFound, readSecurity, revisions, writeSecurity } from './common.js'

const preprocessingSteps: FastifyPluginAsyncTypebox = async (fastify) => {
  const steps = fastify.data.preprocessingSteps
  const tags = ['preprocessing-steps']
  const requiresRevision = revisions.preprocessingStepTransformer

  fastify.post('/preprocessing-steps', {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'createPreprocessingStep',
      tags,
      summary: 'Add a preprocessing step to a dataset',
      security: writeSecurity,
      body: Type.Ref(PreprocessingStepCreateSchema),
      response: { 201: Type.Ref(PreprocessingStepSchema), ...problems(400, 401, 403, 422, 503) },
    },
  }, async (request, reply) => {
    const step = await steps.create(request.body)
    return reply.code(201).header('location', `/preprocessing-steps/${step.id}`).send(step)
  })

  fastify.get('/preprocessing-steps', {
    config: { scope: 'read', requiresRevision },
    schema: {
      operationId: 'listPreprocessingSteps',
      tags,
      summary: 'Preprocessing steps in the order they run: by dataset, then `order`',
      security: readSecurity,
      querystring: PreprocessingStepListQuerySchema,
      response: { 200: Type.Ref(PreprocessingStepListSchema), ...problems(400, 401, 403, 503) },
    },
  }, async (request) => steps.list(request.query))

  fastify.get('/preprocessing-steps/:id', {
    config: { scope: 'read', requiresRevision },
    schema: {
      operationId: 'getPreprocessingStep',
      tags,
      summary: 'One preprocessing step, without its fitted transformer',
      security: readSecurity,
      params: IdParamsSchema,
      response: { 200: Type.Ref(PreprocessingStepSchema), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request) => found(await steps.findById(request.params.id), 'preprocessing step', request.params.id))

  fastify.patch('/preprocessing-steps/:id', {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'updatePreprocessingStep',
      tags,
      summary: 'Activate or deactivate a step, move it, or replace its parameters',
      security: writeSecurity,
      params: IdParamsSchema,
      body: Type.Ref(PreprocessingStepPatchSchema),
      response: { 200: Type.Ref(PreprocessingStepSchema), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request) => found(await steps.update(request.params.id, request.body), 'preprocessing step', request.params.id))

  fastify.delete('/preprocessing-steps/:id', {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'deletePreprocessingStep',
      tags,
      summary: 'Delete a preprocessing step and its fitted transformer',
      security: writeSecurity,
      params: IdParamsSchema,
      response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    if (!await steps.remove(request.params.id)) throw notFound('preprocessing step', request.params.id)
    return reply.code(204).send(null)
  })
}

export default preprocessingSteps
