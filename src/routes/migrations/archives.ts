import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Archive } from '../../migrator/index.js'
import { ArchiveListSchema, ArchiveParamsSchema, RestoreArchiveBodySchema, RestoredArchiveSchema } from '../../schemas/archives.js'
import { problems } from '../../schemas/common.js'

/** What the contract shows of an archive: its schema and key columns are the engine's. */
function archiveView ({ schema: _schema, keyColumns: _keyColumns, ...archive }: Archive) {
  return archive
}

const archiveRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { migrator } = fastify

  fastify.get('/migrations/archives', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listArchives',
      tags: ['migrations'],
      summary: 'What steps destroyed and kept in the archive schema, newest first',
      security: [{ bearer: ['read'] }],
      response: { 200: Type.Ref(ArchiveListSchema), ...problems(401, 403) },
    },
  }, async () => ({ archives: (await migrator.archives()).map(archiveView) }))

  fastify.post('/migrations/archives/:id/restore', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'restoreArchive',
      tags: ['migrations'],
      summary: 'Put an archive back: into its live table by primary key, or into a new table (`into`)',
      security: [{ bearer: ['admin'] }],
      params: ArchiveParamsSchema,
      body: RestoreArchiveBodySchema,
      'x-body-optional': true,
      response: { 200: Type.Ref(RestoredArchiveSchema), ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request) => ({ restoredRows: await migrator.restoreArchive(request.params.id, request.body?.into) }))

  fastify.delete('/migrations/archives/:id', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'deleteArchive',
      tags: ['migrations'],
      summary: 'Drop an archive and its data',
      security: [{ bearer: ['admin'] }],
      params: ArchiveParamsSchema,
      response: { 204: Type.Null({ description: 'dropped' }), ...problems(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    await migrator.deleteArchive(request.params.id)
    return reply.code(204).send(null)
  })
}

export default archiveRoutes
