import fp from 'fastify-plugin'
import knexFactory, { type Knex } from 'knex'
import type { FastifyBaseLogger } from 'fastify'
import type pg from 'pg'
import { enforceStatementTimeout } from './statement-timeout.js'

declare module 'fastify' {
  interface FastifyInstance {
    knex: Knex
  }
}

export interface PoolOptions {
  readonly min?: number
  readonly max?: number
  /** How long a query waits for a free connection (or for a new one to connect) before failing. */
  readonly acquireTimeoutMs?: number
  /** How long each query may run before it is cancelled; 0 is none. The migration pool has none: a migration sets its own inside its transaction. */
  readonly statementTimeoutMs?: number
}

export interface KnexPluginOptions {
  readonly databaseUrl: string
  readonly pool?: PoolOptions
}

export function createKnex (databaseUrl: string, pool: PoolOptions = {}, logger?: FastifyBaseLogger): Knex {
  const acquireTimeoutMs = pool.acquireTimeoutMs ?? 10_000
  const statementTimeoutMs = pool.statementTimeoutMs ?? 0
  return knexFactory({
    // Knex writes its warnings to the console by default: a line that is not JSON breaks log shipping.
    log: logger === undefined
      ? undefined
      : {
          warn: (message: unknown) => logger.warn({ knex: message }, 'knex warning'),
          error: (message: unknown) => logger.error({ knex: message }, 'knex error'),
          deprecate: (method: string, alternative: string) => logger.warn({ method, alternative }, 'knex deprecation'),
          debug: (message: unknown) => logger.debug({ knex: message }, 'knex debug'),
        },
    client: 'pg',
    connection: {
      // No startup parameters beyond the URL's: a transaction pooler refuses them.
      connectionString: databaseUrl,
      connectionTimeoutMillis: acquireTimeoutMs,
      keepAlive: true,
    },
    pool: {
      min: pool.min ?? 0,
      max: pool.max ?? 10,
      afterCreate: (connection: pg.Client, done: (error: Error | null, connection: pg.Client) => void) => {
        if (statementTimeoutMs > 0) enforceStatementTimeout(connection, statementTimeoutMs)
        done(null, connection)
      },
    },
    acquireConnectionTimeout: acquireTimeoutMs,
  })
}

/** Owns the pool: made at registration, destroyed when the app closes. */
export default fp<KnexPluginOptions>(async (fastify, options) => {
  const knex = createKnex(options.databaseUrl, options.pool, fastify.log)
  fastify.decorate('knex', knex)
  fastify.addHook('onClose', async () => { await knex.destroy() })
}, { name: 'knex' })
