import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { OperationSchema } from '../../schemas/migrations.js'

/** Pause, resume and cancel of an operation's backfill; whichever replica is asked, the database carries it. */
const controlRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { migrator } = fastify
  const actions = {
    pause: { summary: 'Pause the backfill under way between batches; the migration lock is freed and the revision stays not applied', run: async (id: string) => migrator.pause(id) },
    resume: { summary: 'Resume a paused operation from its checkpoint: it takes the migration lock again', run: async (id: string) => migrator.resume(id) },
    cancel: { summary: 'End the backfill as failed; the rows done stay, and a later upgrade resumes from the checkpoint', run: async (id: string) => migrator.cancel(id) },
  } as const
  for (const [action, { summary, run }] of Object.entries(actions)) {
    fastify.post(`/migrations/operations/:id/${action}`, {
      config: { scope: 'migrate' },
      schema: {
        operationId: `${action}MigrationOperation`,
        tags: ['migrations'],
        summary,
        security: [{ bearer: ['migrate'] }],
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: Type.Ref(OperationSchema), ...problems(400, 401, 403, 404, 409) },
      },
    }, async (request) => run(request.params.id))
  }
}

export default controlRoutes
