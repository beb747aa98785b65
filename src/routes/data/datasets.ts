import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { DatasetCreateSchema, DatasetListQuerySchema, DatasetListSchema, DatasetSchema, IdParamsSchema } from '../../schemas/data.js'
import { found, readSecurity, revisions, writeSecurity } from './common.js'

const datasets: FastifyPluginAsyncTypebox = async (fastify) => {
  const { datasets } = fastify.data
  const tags = ['datasets']

  fastify.post('/datasets', {
    config: { scope: 'write', requiresRevision: revisions.initial },
    schema: {
      operationId: 'createDataset',
      tags,
      summary: "Register a user's dataset; the file may be attached later",
      security: writeSecurity,
      body: Type.Ref(DatasetCreateSchema),
      response: { 201: Type.Ref(DatasetSchema), ...problems(400, 401, 403, 422, 503) },
    },
  }, async (request, reply) => {
    const dataset = await datasets.create(request.body)
    return reply.code(201).header('location', `/datasets/${dataset.id}`).send(dataset)
  })

  fastify.get('/datasets', {
    config: { scope: 'read', requiresRevision: revisions.initial },
    schema: {
      operationId: 'listDatasets',
      tags,
      summary: "Datasets, newest first, optionally one user's",
      security: readSecurity,
      querystring: DatasetListQuerySchema,
      response: { 200: Type.Ref(DatasetListSchema), ...problems(400, 401, 403, 503) },
    },
  }, async (request) => datasets.list(request.query))

  fastify.get('/datasets/:id', {
    config: { scope: 'read', requiresRevision: revisions.initial },
    schema: {
      operationId: 'getDataset',
      tags,
      summary: 'One dataset',
      security: readSecurity,
      params: IdParamsSchema,
      response: { 200: Type.Ref(DatasetSchema), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request) => found(await datasets.findById(request.params.id), 'dataset', request.params.id))
}

export default datasets
