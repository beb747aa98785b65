import type { Knex } from 'knex'

/**
 * Whether `connection` reaches PostgreSQL through a transaction pooler (PgBouncer in
 * transaction mode, RDS Proxy, Supavisor): there each transaction may run on another server
 * session, so session state (advisory locks, LISTEN, SET) does not stay with the connection.
 *
 * Directly, a client connection keeps one backend, and two client connections never share one.
 * Through a pooler that picks the most recently used server (PgBouncer's default), a second
 * client gets the first one's backend; one that picks the least recently used moves the first
 * client to another backend between its own two transactions. The sequence A, A, B, A shows
 * either. Each statement is its own transaction and nothing waits on another, so a pool of one
 * server connection cannot deadlock it. The second client is opened for the probe and closed
 * after it, outside the pool: a migration holds one connection, not that one and an idle twin.
 */
export async function goesThroughTransactionPooler (knex: Knex, connection: unknown): Promise<boolean> {
  const other: unknown = await knex.client.acquireRawConnection()
  try {
    const backend = async (on: unknown): Promise<number> => {
      const { rows } = await knex.raw<{ rows: Array<{ pid: number }> }>('SELECT pg_backend_pid() AS pid').connection(on)
      return Number(rows[0]?.pid)
    }
    const first = await backend(connection)
    const second = await backend(connection)
    const others = await backend(other)
    const third = await backend(connection)
    const mine = new Set([first, second, third])
    return mine.size > 1 || mine.has(others)
  } finally {
    await knex.client.destroyRawConnection(other)
  }
}

/** The same, on connections of its own taken from `knex`'s pool for the probe. */
export async function poolGoesThroughTransactionPooler (knex: Knex): Promise<boolean> {
  const connection = await knex.client.acquireConnection()
  try {
    return await goesThroughTransactionPooler(knex, connection)
  } finally {
    await knex.client.releaseConnection(connection)
  }
}
