import { resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { bannerMessage, databaseOf, schemaOf, type SchemaWhere, type StartBanner } from './logging/banner.js'
import { scopes } from './auth/tokens.js'

/** Once listening: where the service is, what it serves from, and what a client needs. */
export async function logStartBanner (app: FastifyInstance, config: Config): Promise<void> {
  const url = app.listeningOrigin
  const banner: StartBanner = {
    url,
    docs: `${url}/docs`,
    statusPage: app.hasRoute({ method: 'GET', url: '/' }) ? `${url}/` : null,
    database: config.databaseUrl === null ? { embedded: true, dataDir: resolve(config.dataDir) } : databaseOf(config.databaseUrl),
    migrationDatabase: config.migrationDatabaseUrl === null ? null : databaseOf(config.migrationDatabaseUrl),
    schema: await schemaNow(app),
    auth: {
      tokenRequired: !config.auth.disabled,
      scopes: scopes.filter((scope) => config.auth.tokens.some((token) => token.scope === scope)),
    },
    stop: 'Ctrl+C (SIGINT) or SIGTERM',
  }
  app.log.info({ banner }, `${bannerMessage} on ${url}`)
}

async function schemaNow (app: FastifyInstance): Promise<SchemaWhere> {
  try {
    return schemaOf(await app.migrator.status())
  } catch {
    return { state: 'unreachable' }
  }
}
