import fp from 'fastify-plugin'
import knexFactory, { type Knex } from 'knex'
import type { FastifyBaseLogger } from 'fastify'

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
  /** PostgreSQL `statement_timeout` of every session; 0 is none. A migration sets its own inside its transaction. */
  readonly statementTimeoutMs?: number
}

export interface KnexPluginOptions {
  readonly databaseUrl: string
  readonly pool?: PoolOptions
}

export function createKnex (databaseUrl: string, pool: PoolOptions = {}, logger?: FastifyBaseLogger): Knex {
  const acquireTimeoutMs = pool.acquireTimeoutMs ?? 10_000
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
      connectionString: databaseUrl,
      // Sent at connection start, so it is the session's default and `RESET statement_timeout` returns to it.
      statement_timeout: pool.statementTimeoutMs ?? 0,
      connectionTimeoutMillis: acquireTimeoutMs,
      keepAlive: true,
    },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
    acquireConnectionTimeout: acquireTimeoutMs,
  })
}

/** Owns the pool: made at registration, destroyed when the app closes. */
export default fp<KnexPluginOptions>(async (fastify, options) => {
  const knex = createKnex(options.databaseUrl, options.pool, fastify.log)
  fastify.decorate('knex', knex)
  fastify.addHook('onClose', async () => { await knex.destroy() })
}, { name: 'knex' })
