import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { IdParamsSchema, ModelRunCreateSchema, ModelRunListQuerySchema, ModelRunListSchema, ModelRunPatchSchema, ModelRunSchema } from '../../schemas/data.js'
import { problem } from '../../http/problems.js'
import { found, notFound, readSecurity, revisions, writeSecurity } from './common.js'

const modelRuns: FastifyPluginAsyncTypebox = async (fastify) => {
  const { modelRuns } = fastify.data
  const tags = ['model-runs']
  const requiresRevision = revisions.modelRunStatus

  fastify.post('/model-runs', {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'createModelRun',
      tags,
      summary: 'Start tracking a model run; it begins `pending`',
      security: writeSecurity,
      body: Type.Ref(ModelRunCreateSchema),
      response: { 201: Type.Ref(ModelRunSchema), ...problems(400, 401, 403, 422, 503) },
    },
  }, async (request, reply) => {
    const run = await modelRuns.create(request.body)
    return reply.code(201).header('location', `/model-runs/${run.id}`).send(run)
  })

  fastify.get('/model-runs', {
    config: { scope: 'read', requiresRevision },
    schema: {
      operationId: 'listModelRuns',
      tags,
      summary: 'Model runs, newest first, filtered by status, experiment or model type',
      security: readSecurity,
      querystring: ModelRunListQuerySchema,
      response: { 200: Type.Ref(ModelRunListSchema), ...problems(400, 401, 403, 503) },
    },
  }, async (request) => {
    const { taskId } = request.query
    if (taskId !== undefined && !fastify.migrator.viewOf(await fastify.schemaState.state()).analysis.applied.has(revisions.modelRunTaskId)) {
      throw problem('schema-not-ready', `?taskId= needs revision ${revisions.modelRunTaskId}, not applied yet`, { requiredRevision: revisions.modelRunTaskId })
    }
    return modelRuns.list(request.query)
  })

  fastify.get('/model-runs/:id', {
    config: { scope: 'read', requiresRevision },
    schema: {
      operationId: 'getModelRun',
      tags,
      summary: 'One model run',
      security: readSecurity,
      params: IdParamsSchema,
      response: { 200: Type.Ref(ModelRunSchema), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request) => found(await modelRuns.findById(request.params.id), 'model run', request.params.id))

  fastify.patch('/model-runs/:id', {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'updateModelRun',
      tags,
      summary: 'Move the status forward, set metrics or training time, merge-patch the metadata (RFC 7396)',
      description: 'A transition the status rule forbids is a 409 with `from` and `to`.',
      security: writeSecurity,
      params: IdParamsSchema,
      body: Type.Ref(ModelRunPatchSchema),
      response: { 200: Type.Ref(ModelRunSchema), ...problems(400, 401, 403, 404, 409, 503) },
    },
  }, async (request) => found(await modelRuns.update(request.params.id, request.body), 'model run', request.params.id))

  fastify.delete('/model-runs/:id', {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'deleteModelRun',
      tags,
      summary: 'Delete a model run and its tuning runs',
      security: writeSecurity,
      params: IdParamsSchema,
      response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    if (!await modelRuns.remove(request.params.id)) throw notFound('model run', request.params.id)
    return reply.code(204).send(null)
  })
}

export default modelRuns
