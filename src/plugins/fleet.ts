import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { FleetCache } from '../fleet/status/fleet-cache.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Every target's status, from memory; `fleet.invalidate(name)` reads one again after an operation on it. */
    fleet: FleetCache
  }
}

export interface FleetPluginOptions {
  /** How often every target is read again. */
  readonly refreshMs: number
  readonly concurrency?: number
  /** Read in the background: a TARGETS_FILE is set. Without one nothing runs unasked, as before fleets. */
  readonly background: boolean
  /** What each target's drift is measured against; the committed snapshots by default. */
  readonly snapshotsDir?: string
}

export const defaultFleetRefreshMs = 30_000

/** The fleet's status cache, kept in step with the registry; its counts are `aip_schema_fleet_targets{state}`. */
export default fp<FleetPluginOptions>(async (fastify, options) => {
  const log = fastify.log.child({ component: 'fleet' })
  const fleet = new FleetCache({ registry: fastify.targets, graph: fastify.migrator.graph, logger: log, refreshMs: options.refreshMs, concurrency: options.concurrency, background: options.background, snapshotsDir: options.snapshotsDir })
  fastify.targets.onChange(() => fleet.sync())
  // The service's own database moved (an upgrade here or on another replica): its row is not
  // left as it was until the next sweep, so the fleet view agrees with /migrations/current.
  fastify.schemaState.onNewHeads(() => {
    const self = fastify.targets.list().find((target) => target.source === 'self')
    if (self !== undefined) fleet.changed(self.name).catch(() => undefined)
  })
  fastify.metricsRegistry.registerMetric(new Gauge({
    name: 'aip_schema_fleet_targets',
    help: 'Targets by state (up-to-date, behind, ahead, unreachable, unchecked), as the fleet cache last read them',
    labelNames: ['state'] as const,
    registers: [],
    collect () {
      for (const [state, count] of Object.entries(fleet.counts())) this.set({ state }, count)
    },
  }))
  fastify.decorate('fleet', fleet)
  fastify.addHook('onReady', async () => { fleet.start() })
  fastify.addHook('onClose', async () => { await fleet.close() })
}, { name: 'fleet', dependencies: ['targets', 'migrator', 'metrics', 'schema-state'] })
