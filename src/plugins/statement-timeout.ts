import pg from 'pg'

type QueryCallback = (error: Error | null, result: unknown) => void
type Query = (...args: unknown[]) => unknown

/**
 * The data queries' statement timeout, enforced from the client so that it needs no session
 * state: `statement_timeout` as a startup parameter is refused by PgBouncer (and lost when
 * ignored), and a `SET` would stay on whichever server session ran it. Past `timeoutMs` a
 * protocol cancel request is sent for the connection; a pooler forwards it to the server
 * session running the query, and PostgreSQL ends it with 57014 as `statement_timeout` would.
 * It costs a timer per query; `SET LOCAL` in a transaction around each query costs three
 * more round trips (see bench/RESULTS-pooler.md).
 *
 * Only `query(config, callback)` is timed: it is the form Knex uses for every query it runs.
 */
export function enforceStatementTimeout (client: pg.Client, timeoutMs: number): void {
  const query = client.query.bind(client) as Query
  const timed: Query = (...args) => {
    const [config, callback] = args
    if (args.length !== 2 || typeof callback !== 'function') return query(...args)
    const done = callback as QueryCallback
    let running = true
    const timer = setTimeout(() => sendCancel(client, () => running), timeoutMs)
    return query(config, (error: Error | null, result: unknown) => {
      running = false
      clearTimeout(timer)
      done(error, result)
    })
  }
  client.query = timed as pg.Client['query']
}

const cancelDeliveryMs = 10_000

/** What pg's `Connection` has and its types do not declare. */
interface CancelConnection extends pg.Connection {
  connect (port: number | string, host?: string): void
  cancel (processID: number, secretKey: number): void
}

/** A cancel request goes on a connection of its own; `stillRunning` is asked again once it is open, so a query that just ended is not followed by a cancel that hits the next one. */
function sendCancel (client: pg.Client, stillRunning: () => boolean): void {
  const { processID, secretKey } = client as unknown as { processID: number | null, secretKey: number | null }
  if (processID === null || secretKey === null) return
  const connection = new pg.Connection() as CancelConnection
  // The receiver closes the connection once the cancel is delivered; PgBouncer drops a cancel whose connection we close first.
  const abandon = setTimeout(() => connection.stream.destroy(), cancelDeliveryMs).unref()
  connection.stream.on('close', () => clearTimeout(abandon))
  connection.on('error', () => connection.stream.destroy())
  connection.on('connect', () => {
    if (stillRunning()) connection.cancel(processID, secretKey)
    else connection.stream.destroy()
  })
  if (client.host.startsWith('/')) connection.connect(`${client.host}/.s.PGSQL.${client.port}`)
  else connection.connect(client.port, client.host)
}
