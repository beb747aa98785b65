import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { grants } from '../../auth/tokens.js'
import type { MigrationResult } from '../../migrator/index.js'
import { problems } from '../../schemas/common.js'
import { DowngradeBodySchema, MigrationResultSchema, OperationSchema, StampBodySchema, UpgradeBodySchema } from '../../schemas/migrations.js'
import { clearedMigration } from '../../verbs/clearance.js'

const writeRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { migrator } = fastify
  const migrationErrors = problems(400, 401, 403, 404, 409, 500)

  /** This process's own change shows in `current` and readiness by the time its caller has the answer. */
  async function changing (work: () => Promise<MigrationResult>): Promise<MigrationResult> {
    const refresh = () => fastify.schemaState.refresh().catch(() => undefined)
    let result: MigrationResult
    try {
      result = await work()
    } catch (error) {
      await refresh()
      throw error
    }
    const moved = result.from.length !== result.to.length || result.from.some((id) => !result.to.includes(id))
    if (!result.dryRun && moved) await refresh()
    return result
  }

  fastify.post('/migrations/upgrade', {
    config: { scope: 'migrate' },
    schema: {
      operationId: 'upgradeSchema',
      tags: ['migrations'],
      summary: 'Upgrade to a target (default `head`), or run an approved plan (`planId`); `dryRun` rolls back, `async` answers 202',
      security: [{ bearer: ['migrate'] }],
      body: UpgradeBodySchema,
      'x-body-optional': true,
      response: { 200: Type.Ref(MigrationResultSchema), 202: Type.Ref(OperationSchema), ...migrationErrors },
    },
  }, async (request, reply) => {
    const { target, dryRun = false, async = false, planId } = request.body
    const migrateRequest = await clearedMigration(fastify.review, request.actor, { direction: 'upgrade', target: planId === undefined ? target ?? 'head' : target, dryRun, planId })
    if (!async) return changing(() => migrator.upgrade(migrateRequest))
    const operation = await migrator.submit('upgrade', migrateRequest)
    return reply.code(202).header('location', `/migrations/operations/${operation.id}`).send(operation)
  })

  fastify.post('/migrations/downgrade', {
    config: { scope: 'admin' },
    schema: {
      operationId: 'downgradeSchema',
      tags: ['migrations'],
      summary: 'Downgrade to a target (required), with an approved plan (`planId`) for it; `dryRun` rolls back, `async` answers 202',
      security: [{ bearer: ['admin'] }],
      body: DowngradeBodySchema,
      response: { 200: Type.Ref(MigrationResultSchema), 202: Type.Ref(OperationSchema), ...migrationErrors },
    },
  }, async (request, reply) => {
    const { target, dryRun = false, async = false, planId } = request.body
    const migrateRequest = await clearedMigration(fastify.review, request.actor, { direction: 'downgrade', target, dryRun, planId })
    if (!async) return changing(() => migrator.downgrade(migrateRequest))
    const operation = await migrator.submit('downgrade', migrateRequest)
    return reply.code(202).header('location', `/migrations/operations/${operation.id}`).send(operation)
  })

  fastify.post('/migrations/stamp', {
    config: { scope: 'migrate' },
    schema: {
      operationId: 'stampSchema',
      tags: ['migrations'],
      summary: 'Write the version without running migrations; stamping backwards needs `admin`',
      security: [{ bearer: ['migrate'] }],
      body: StampBodySchema,
      response: { 200: Type.Ref(MigrationResultSchema), ...migrationErrors },
    },
  }, async (request) => changing(() => migrator.stamp({
    target: request.body.target,
    purge: request.body.purge ?? false,
    actor: request.actor,
    allowBackwards: request.grantedScope !== null && grants(request.grantedScope, 'admin'),
  })))
}

export default writeRoutes
