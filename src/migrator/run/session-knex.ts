import type { Knex } from 'knex'

/**
 * A Knex whose every query, and every transaction it begins, runs on `session`: what the engine
 * writes while it holds the migration lock goes on the lock's own connection, so an operation
 * holds one connection, not that one and a pool's beside it. Only sequential work may use it:
 * the session runs one statement at a time, so a probe that must run while a statement waits
 * (the blockers) stays on the pool.
 */
export function sessionKnex (knex: Knex, session: unknown): Knex {
  const bound = knex.withUserParams({ ...knex.userParams })
  bound.client.acquireConnection = async () => session
  bound.client.releaseConnection = async () => undefined
  return bound
}
