import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import { installValidators } from './http/validation.js'
import { sharedSchemas } from './schemas/common.js'
import { migrationSchemas } from './schemas/migrations.js'
import { ReadinessSchema } from './schemas/health.js'
import { dataSchemas } from './schemas/data.js'
import knexPlugin from './plugins/knex.js'
import migratorPlugin from './plugins/migrator.js'
import authPlugin from './plugins/auth.js'
import problemDetails from './plugins/problem-details.js'
import openapi from './plugins/openapi.js'
import healthRoutes from './routes/health/index.js'
import migrationReadRoutes from './routes/migrations/read.js'
import migrationWriteRoutes from './routes/migrations/write.js'
import schemaGate from './plugins/schema-gate.js'
import dataPlugin from './plugins/data.js'
import dataRoutes from './routes/data/index.js'

export interface AppOptions {
  readonly databaseUrl: string
  readonly config: Pick<Config, 'auth' | 'lock' | 'fittedTransformerMaxBytes'>
  readonly logger?: FastifyServerOptions['logger']
  /** Another set of revisions, for tests. */
  readonly migrationsDir?: string
  readonly instance?: string
  /** The data endpoints need the service's own revisions; off for another revision set. */
  readonly dataApi?: boolean
}

/** The application; it never listens (src/server.ts does), so tests build it and inject. */
export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<TypeBoxTypeProvider>()
  installValidators(app)

  for (const schema of [...sharedSchemas, ...migrationSchemas, ReadinessSchema, ...dataSchemas]) app.addSchema(schema)

  await app.register(problemDetails)
  await app.register(openapi)
  await app.register(knexPlugin, { databaseUrl: options.databaseUrl })
  await app.register(migratorPlugin, {
    migrationsDir: options.migrationsDir,
    instance: options.instance,
    lockWaitMs: options.config.lock.waitMs,
    lockTimeoutMs: options.config.lock.lockTimeoutMs,
  })
  await app.register(authPlugin, options.config.auth)

  await app.register(healthRoutes)
  await app.register(migrationReadRoutes)
  await app.register(migrationWriteRoutes)
  if (options.dataApi !== false) {
    await app.register(schemaGate)
    await app.register(dataPlugin)
    await app.register(dataRoutes, { fittedTransformerMaxBytes: options.config.fittedTransformerMaxBytes })
  }
  return app
}
