import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { SchemaStateCache } from '../schema-state/state-cache.js'
import { readDatabaseState } from '../migrator/index.js'
import { createVersionListener } from '../schema-state/version-listener.js'
import { createKnex } from './knex.js'

declare module 'fastify' {
  interface FastifyInstance {
    schemaState: SchemaStateCache
  }
}

export interface SchemaStatePluginOptions {
  /** The migration connection's URL: LISTEN needs a session. */
  readonly databaseUrl: string
  /** Names the LISTEN session in `pg_stat_activity`. */
  readonly instance: string
  /** The safety net: how often the version is read even when no NOTIFY came. */
  readonly refreshMs: number
  readonly acquireTimeoutMs: number
  readonly statementTimeoutMs: number
}

/**
 * The schema state `/health/ready` and `/migrations/current` answer from. It is read again on
 * every NOTIFY of a new version, when the LISTEN session (re)connects, and every `refreshMs`;
 * it turns unreachable the moment that session breaks. Its reads use a connection of their own,
 * so a pool exhausted by data traffic does not make the database look down.
 *
 * Through a transaction pooler LISTEN hears nothing (the session it ran on serves other
 * clients next): when the migration connection is one, the periodic read is all there is,
 * and the log and `aip_schema_state_listening` say so.
 */
export default fp<SchemaStatePluginOptions>(async (fastify, options) => {
  const knex = createKnex(options.databaseUrl, { max: 1, acquireTimeoutMs: options.acquireTimeoutMs, statementTimeoutMs: options.statementTimeoutMs }, fastify.log)
  let listening: boolean | null = null
  fastify.metricsRegistry.registerMetric(new Gauge({
    name: 'aip_schema_state_listening',
    help: 'Whether the schema state follows new versions through LISTEN (1) or only through the periodic read (0: the migration connection is a transaction pooler); NaN until known',
    registers: [],
    collect () { this.set(listening === null ? Number.NaN : Number(listening)) },
  }))
  let warned = false
  const cache = new SchemaStateCache({
    read: () => readDatabaseState(knex),
    onReadFailed: (error) => {
      if (!warned) fastify.log.warn({ err: error }, 'schema state: the database cannot be read')
      warned = true
    },
  })
  const refresh = (): void => {
    cache.refresh().then(() => { warned = false }, () => undefined)
  }
  const listener = createVersionListener({
    databaseUrl: options.databaseUrl,
    applicationName: `aip-schema-listen|${options.instance}`.slice(0, 63),
    connectTimeoutMs: options.acquireTimeoutMs,
    onListening: refresh,
    onVersionChanged: () => cache.changed(),
    onLost: (error) => {
      cache.markUnreachable()
      fastify.log.warn({ err: error }, 'schema state: the LISTEN connection broke; reconnecting')
    },
  })
  let timer: NodeJS.Timeout | null = null
  let closed = false
  let retry: NodeJS.Timeout | null = null
  // The pooler probe needs the database: until it answers, the periodic read is all there is.
  const listenUnlessPooled = (): void => {
    fastify.migrationConnection.verdict().then((pooled) => {
      if (closed) return
      listening = !pooled
      if (listening) listener.start()
      else fastify.log.warn({ refreshMs: options.refreshMs }, 'schema state: the migration connection goes through a transaction pooler, where LISTEN hears nothing; reading the schema state periodically instead')
    }, () => {
      if (!closed) retry = setTimeout(listenUnlessPooled, options.refreshMs).unref()
    })
  }

  fastify.decorate('schemaState', cache)
  fastify.addHook('onReady', async () => {
    listenUnlessPooled()
    timer = setInterval(refresh, options.refreshMs).unref()
    // Ready with the state read when the database answers; a database that does not is retried, not waited for.
    await cache.refresh().catch(() => undefined)
  })
  fastify.addHook('onClose', async () => {
    closed = true
    if (timer !== null) clearInterval(timer)
    if (retry !== null) clearTimeout(retry)
    cache.stop()
    await listener.stop()
    await knex.destroy()
  })
}, { name: 'schema-state', dependencies: ['metrics', 'migration-connection'] })
