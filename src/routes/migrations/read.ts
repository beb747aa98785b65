import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { HeadsSchema, HistoryQuerySchema, HistorySchema, OperationListSchema, OperationReadQuerySchema, OperationSchema, RevisionDetailSchema, SchemaStatusSchema } from '../../schemas/migrations.js'
import { headsView, revisionView } from '../../verbs/views.js'

/** Read-only: no table created, no lock taken, so probes can poll while another replica migrates. */
const readRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { migrator } = fastify
  const security = [{ bearer: ['read'] }]

  fastify.get('/migrations/current', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getCurrentRevision',
      tags: ['migrations'],
      summary: 'The revisions the database is at, the heads, and what is pending',
      security,
      response: { 200: Type.Ref(SchemaStatusSchema), ...problems(401, 403) },
    },
  }, () => {
    // The cached state answers in the same tick; only a state not read yet waits for the database.
    const { reachable, state } = fastify.schemaState.current
    return reachable && state !== null ? migrator.statusOf(state) : fastify.schemaState.state().then((read) => migrator.statusOf(read))
  })

  fastify.get('/migrations/heads', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listHeads',
      tags: ['migrations'],
      summary: 'The heads of the revision graph',
      security,
      response: { 200: Type.Ref(HeadsSchema), ...problems(401, 403) },
    },
  }, async () => headsView(migrator.graph))

  fastify.get('/migrations/history', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listRevisionHistory',
      tags: ['migrations'],
      summary: 'Every revision, newest first, with whether and when it was applied; paged with limit and cursor',
      security,
      querystring: HistoryQuerySchema,
      response: { 200: Type.Ref(HistorySchema), ...problems(400, 401, 403) },
    },
  }, async (request) => migrator.history(request.query))

  fastify.get('/migrations/revisions/:rev', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getRevision',
      tags: ['migrations'],
      summary: 'One revision, by id or unique prefix',
      security,
      params: Type.Object({ rev: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: Type.Ref(RevisionDetailSchema), ...problems(400, 401, 403, 404) },
    },
  }, async (request) => revisionView(migrator.graph, request.params.rev))

  fastify.get('/migrations/operations', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listMigrationOperations',
      tags: ['migrations'],
      summary: 'The audit log of upgrades, downgrades and stamps, newest first',
      security,
      querystring: Type.Composite([Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }), OperationReadQuerySchema], { additionalProperties: false }),
      response: { 200: Type.Ref(OperationListSchema), ...problems(400, 401, 403) },
    },
  }, async (request) => ({ operations: await migrator.operations(request.query.limit, { includeSql: request.query.include === 'sql' }) }))

  fastify.get('/migrations/operations/:id', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getMigrationOperation',
      tags: ['migrations'],
      summary: 'One operation, for polling an asynchronous upgrade or downgrade',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: OperationReadQuerySchema,
      response: { 200: Type.Ref(OperationSchema), ...problems(400, 401, 403, 404) },
    },
  }, async (request) => migrator.operation(request.params.id, { includeSql: request.query.include === 'sql' }))
}

export default readRoutes
