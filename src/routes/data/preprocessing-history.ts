import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import {
  PreprocessingHistoryCreateSchema, PreprocessingHistoryEntrySchema, PreprocessingHistoryListQuerySchema, PreprocessingHistoryListSchema,
} from '../../schemas/data.js'
import { readSecurity, revisions, writeSecurity } from './common.js'

const preprocessingHistory: FastifyPluginAsyncTypebox = async (fastify) => {
  const history = fastify.data.preprocessingHistory
  const tags = ['preprocessing-history']
  const requiresRevision = revisions.preprocessingHistory

  fastify.post('/preprocessing-history', {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'recordPreprocessingOperation',
      tags,
      summary: 'Record a preprocessing operation run on a dataset',
      security: writeSecurity,
      body: Type.Ref(PreprocessingHistoryCreateSchema),
      response: { 201: Type.Ref(PreprocessingHistoryEntrySchema), ...problems(400, 401, 403, 422, 503) },
    },
  }, async (request, reply) => reply.code(201).send(await history.create(request.body)))

  fastify.get('/preprocessing-history', {
    config: { scope: 'read', requiresRevision },
    schema: {
      operationId: 'listPreprocessingHistory',
      tags,
      summary: 'Preprocessing operations, newest first, filtered by dataset or status',
      security: readSecurity,
      querystring: PreprocessingHistoryListQuerySchema,
      response: { 200: Type.Ref(PreprocessingHistoryListSchema), ...problems(400, 401, 403, 503) },
    },
  }, async (request) => history.list(request.query))
}

export default preprocessingHistory
