import type { Knex } from 'knex'

/** Rounds of the behavioural probe: one round can be fooled by other clients' traffic through the pooler. */
const probeRounds = 5

/**
 * Whether `connection` reaches PostgreSQL through a transaction pooler (PgBouncer in
 * transaction mode, RDS Proxy, Supavisor): there each transaction may run on another server
 * session, so session state (advisory locks, LISTEN, SET) does not stay with the connection.
 *
 * PostgreSQL tells a client its backend's pid when it connects (the cancel key); a pooler sends
 * a key of its own. When the announced pid is the session's, nothing pools it, and no second
 * connection is needed. Otherwise the pooler's mode is told by behaviour, on a second client
 * opened outside the pool for the probe and closed after it (a migration holds one connection,
 * not that one and an idle twin). Through a pooler that picks the most recently used server
 * (PgBouncer's default) the second client gets the first one's backend; one that picks the
 * least recently used moves the first client between its own two transactions. The sequence
 * A, A, B, A shows either; other clients' traffic can hide it in one round, not in several.
 * A pooler in session mode never shows it: there a client keeps its server, and its locks.
 * Each statement is its own transaction and nothing waits on another, so a pool of one server
 * connection cannot deadlock it.
 */
export async function goesThroughTransactionPooler (knex: Knex, connection: unknown): Promise<boolean> {
  const backend = async (on: unknown): Promise<number> => {
    const { rows } = await knex.raw<{ rows: Array<{ pid: number }> }>('SELECT pg_backend_pid() AS pid').connection(on)
    return Number(rows[0]?.pid)
  }
  if (announcedBackend(connection) === await backend(connection)) return false
  const other: unknown = await knex.client.acquireRawConnection()
  try {
    for (let round = 0; round < probeRounds; round++) {
      const first = await backend(connection)
      const second = await backend(connection)
      const others = await backend(other)
      const third = await backend(connection)
      const mine = new Set([first, second, third])
      if (mine.size > 1 || mine.has(others)) return true
    }
    return false
  } finally {
    await knex.client.destroyRawConnection(other)
  }
}

/** The backend pid in the cancel key the server sent at connection (node-postgres keeps it as `processID`). */
function announcedBackend (connection: unknown): number | undefined {
  const processID = (connection as { processID?: unknown } | null)?.processID
  return typeof processID === 'number' ? processID : undefined
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
