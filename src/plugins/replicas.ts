import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { readinessOf, type ReplicaReadiness, type ReplicaState } from '../replicas/state.js'
import { createReplicaStore, type Replica } from '../replicas/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    replicas: {
      /** The replicas seen in the last three heartbeats, this one included once it recorded itself. */
      live (): Promise<Replica[]>
    }
  }
}

export interface ReplicasPluginOptions {
  readonly instance: string
  /** The release this replica runs: the package version. */
  readonly version: string
  readonly heartbeatMs: number
}

/** Missed this many heartbeats, a replica counts as gone. */
const missedBeats = 3
/** How often the cached state is looked at for a change of readiness: in memory, no query. */
const readinessCheckMs = 1000
const states: readonly ReplicaState[] = ['ready', 'compatible-ahead', 'unready']

/**
 * Each replica records itself in the database at start and every heartbeat, one upsert each,
 * with what it knows and whether it can serve, and again as soon as that changes; a rolling
 * deploy shows two releases side by side. The state comes from the cached schema state, so a
 * heartbeat costs no other query. Closing deletes the row.
 */
export default fp<ReplicasPluginOptions>(async (fastify, options) => {
  const store = createReplicaStore(fastify.knex)
  const startedAt = new Date().toISOString()
  const windowMs = options.heartbeatMs * missedBeats
  const live = () => store.live(windowMs)

  const readinessNow = () => {
    const { reachable, state } = fastify.schemaState.current
    return readinessOf(reachable && state !== null ? fastify.migrator.viewOf(state) : null)
  }
  const keyOf = (readiness: ReplicaReadiness) => `${readiness.state} ${readiness.reason}`
  let warned = false
  /** The readiness last sent, recorded or not: a failed record waits for the heartbeat, not for the next check. */
  let sent: string | null = null
  let recordedOnce = false
  let beating: Promise<void> | null = null
  const beat = (): Promise<void> => {
    beating ??= (async () => {
      const readiness = readinessNow()
      sent = keyOf(readiness)
      if (await store.record({ instance: options.instance, version: options.version, heads: [...fastify.migrator.graph.heads], startedAt, ...readiness })) recordedOnce = true
      warned = false
    })().catch((error: unknown) => {
      if (!warned) fastify.log.warn({ err: error }, 'replicas: could not record this replica')
      warned = true
    }).finally(() => { beating = null })
    return beating
  }

  fastify.metricsRegistry.registerMetric(new Gauge({
    name: 'aip_schema_replicas',
    help: 'The replicas of the service seen in the last three heartbeats, by state (ready, compatible-ahead, unready)',
    labelNames: ['state'] as const,
    registers: [],
    async collect () {
      this.reset()
      const replicas = await live().catch((error: unknown) => {
        fastify.log.warn({ err: error }, 'metrics: could not read the replicas')
        return null
      })
      if (replicas === null) return
      for (const state of states) this.set({ state }, replicas.filter((replica) => replica.state === state).length)
    },
  }))

  fastify.decorate('replicas', { live })
  let timer: NodeJS.Timeout | null = null
  let check: NodeJS.Timeout | null = null
  // After schema-state's own onReady: the first record carries the state it read. Waited for
  // when the database answered, so a replica is listed once it is ready; a database not there
  // yet is the probes' to report, not a reason to start late.
  fastify.addHook('onReady', async () => {
    if (fastify.schemaState.current.reachable) await beat()
    else beat().catch(() => undefined)
    timer = setInterval(() => { beat().catch(() => undefined) }, options.heartbeatMs).unref()
    // A migration changes what replicas can serve: said at once, not at the next heartbeat.
    // Only once the table exists: on a database not migrated yet, the next heartbeat makes it.
    check = setInterval(() => {
      if (recordedOnce && keyOf(readinessNow()) !== sent) beat().catch(() => undefined)
    }, Math.min(readinessCheckMs, options.heartbeatMs)).unref()
  })
  // Registered after the pools, so this runs before they are destroyed.
  fastify.addHook('onClose', async () => {
    if (timer !== null) clearInterval(timer)
    if (check !== null) clearInterval(check)
    await beating
    await store.remove(options.instance).catch((error: unknown) => fastify.log.warn({ err: error }, 'replicas: could not remove this replica'))
  })
}, { name: 'replicas', dependencies: ['metrics', 'knex', 'migrator', 'schema-state'] })
