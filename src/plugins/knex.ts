import fp from 'fastify-plugin'
import knexFactory, { type Knex } from 'knex'

declare module 'fastify' {
  interface FastifyInstance {
    knex: Knex
  }
}

export interface KnexPluginOptions {
  readonly databaseUrl: string
  readonly pool?: { min?: number, max?: number }
}

export function createKnex (databaseUrl: string, pool: { min?: number, max?: number } = {}): Knex {
  return knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
    acquireConnectionTimeout: 10_000,
  })
}

/** Owns the pool: made at registration, destroyed when the app closes. */
export default fp<KnexPluginOptions>(async (fastify, options) => {
  const knex = createKnex(options.databaseUrl, options.pool)
  fastify.decorate('knex', knex)
  fastify.addHook('onClose', async () => { await knex.destroy() })
}, { name: 'knex' })
