import fp from 'fastify-plugin'
import knexFactory, { type Knex } from 'knex'

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

export function createKnex (databaseUrl: string, pool: PoolOptions = {}): Knex {
  const acquireTimeoutMs = pool.acquireTimeoutMs ?? 10_000
  return knexFactory({
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
  const knex = createKnex(options.databaseUrl, options.pool)
  fastify.decorate('knex', knex)
  fastify.addHook('onClose', async () => { await knex.destroy() })
}, { name: 'knex' })
