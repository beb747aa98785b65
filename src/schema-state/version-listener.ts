import pg from 'pg'
import { versionChannel } from '../migrator/index.js'

export interface VersionListenerEvents {
  /** Connected and listening: notifications sent while it was not may have been missed. */
  onListening (): void
  /** Another session committed a new version. */
  onVersionChanged (): void
  /** The connection broke or could not be made; it is retried by itself. */
  onLost (error: Error): void
}

export interface VersionListenerOptions extends VersionListenerEvents {
  readonly databaseUrl: string
  /** Shown in `pg_stat_activity`, so an operator can tell this session apart. */
  readonly applicationName: string
  readonly connectTimeoutMs: number
  readonly minBackoffMs?: number
  readonly maxBackoffMs?: number
}

export interface VersionListener {
  start (): void
  stop (): Promise<void>
}

/**
 * A dedicated session that LISTENs on the version channel. It is not a pooled connection:
 * LISTEN belongs to a session, and the pool would hand it to a query. Its breaking is the
 * first sign of an outage, and it reconnects by itself with backoff until stopped.
 */
export function createVersionListener (options: VersionListenerOptions): VersionListener {
  const minBackoffMs = options.minBackoffMs ?? 100
  const maxBackoffMs = options.maxBackoffMs ?? 1000
  let client: pg.Client | null = null
  let retry: NodeJS.Timeout | null = null
  let backoffMs = minBackoffMs
  let stopped = true

  function scheduleReconnect (): void {
    if (stopped || retry !== null) return
    const delay = backoffMs + Math.random() * backoffMs / 2
    backoffMs = Math.min(backoffMs * 2, maxBackoffMs)
    retry = setTimeout(() => {
      retry = null
      connect().catch(() => undefined)
    }, delay)
  }

  function lost (session: pg.Client, error: Error): void {
    if (client !== session) return
    client = null
    session.removeAllListeners('notification')
    session.end().catch(() => undefined)
    if (stopped) return
    options.onLost(error)
    scheduleReconnect()
  }

  async function connect (): Promise<void> {
    const session = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: options.applicationName,
      connectionTimeoutMillis: options.connectTimeoutMs,
      keepAlive: true,
    })
    client = session
    session.on('error', (error) => lost(session, error))
    session.on('end', () => lost(session, new Error('the LISTEN connection ended')))
    session.on('notification', (message) => {
      if (message.channel === versionChannel) options.onVersionChanged()
    })
    try {
      await session.connect()
      await session.query(`LISTEN ${versionChannel}`)
    } catch (error) {
      lost(session, error as Error)
      return
    }
    if (client !== session) return
    backoffMs = minBackoffMs
    options.onListening()
  }

  return {
    start () {
      if (!stopped) return
      stopped = false
      connect().catch(() => undefined)
    },
    async stop () {
      stopped = true
      if (retry !== null) clearTimeout(retry)
      retry = null
      const session = client
      client = null
      await session?.end().catch(() => undefined)
    },
  }
}
