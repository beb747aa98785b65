import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { checkDrift } from '../../catalog/drift.js'
import { introspectSchema } from '../../catalog/introspect.js'
import { problems } from '../../schemas/common.js'
import { DatabaseSchemaSchema, DriftSchema } from '../../schemas/schema.js'

/** Read-only, like every GET: catalog queries and the committed snapshots, no table created, no lock. */
const schemaRoutes: FastifyPluginAsyncTypebox<{ snapshotsDir?: string | undefined }> = async (fastify, options) => {
  const security = [{ bearer: ['read'] }]

  fastify.get('/schema', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getSchema',
      tags: ['schema'],
      summary: "The live schema from pg_catalog: tables, columns, indexes, foreign keys, checks; the engine's bookkeeping marked",
      security,
      response: { 200: Type.Ref(DatabaseSchemaSchema), ...problems(401, 403) },
    },
  }, async () => introspectSchema(fastify.knex))

  fastify.get('/schema/drift', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getSchemaDrift',
      tags: ['schema'],
      summary: 'The live schema against the one the migrations produce at the current revision',
      description: 'Compared with the committed snapshot of the revision in `alembic_version`. 409 when the database is at ' +
        'a revision the code does not know, at several unmerged heads, or at one with no snapshot.',
      security,
      response: { 200: Type.Ref(DriftSchema), ...problems(401, 403, 409) },
    },
  }, async () => checkDrift(fastify.knex, fastify.migrator.graph, { snapshotsDir: options.snapshotsDir }))
}

export default schemaRoutes
