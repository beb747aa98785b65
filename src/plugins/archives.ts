import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'

export interface ArchivesPluginOptions {
  /** How often archives past their retention are dropped. */
  readonly purgeEveryMs?: number
}

/**
 * Archives past their retention are dropped by the service, once at start and then on an
 * interval; `/metrics` counts what is kept. Both read nothing but the bookkeeping.
 */
export default fp<ArchivesPluginOptions>(async (fastify, options) => {
  const { migrator } = fastify
  const purge = async () => {
    try {
      const purged = await migrator.purgeExpiredArchives()
      if (purged > 0) fastify.log.info({ purged }, `dropped ${purged} archive${purged === 1 ? '' : 's'} past their retention`)
    } catch (error) {
      fastify.log.warn({ err: error }, 'archives past their retention could not be dropped; trying again later')
    }
  }
  let timer: NodeJS.Timeout | undefined
  fastify.addHook('onReady', async () => {
    // Not waited for: a start does not wait on housekeeping, and `purge` reports its own failure.
    purge().catch(() => undefined)
    timer = setInterval(() => { purge().catch(() => undefined) }, options.purgeEveryMs ?? 60 * 60 * 1000).unref()
  })
  fastify.addHook('onClose', async () => clearInterval(timer))

  let scrape: Promise<{ count: number, bytes: number } | null> | null = null
  const totals = () => {
    scrape ??= migrator.archiveTotals().catch(() => null).finally(() => { scrape = null })
    return scrape
  }
  fastify.metricsRegistry.registerMetric(new Gauge({
    name: 'aip_schema_archives',
    help: 'Archives of what migration steps destroyed, kept until their retention ends',
    registers: [],
    async collect () {
      const read = await totals()
      this.set(read === null ? Number.NaN : read.count)
    },
  }))
  fastify.metricsRegistry.registerMetric(new Gauge({
    name: 'aip_schema_archive_bytes',
    help: 'Bytes the archives take in schema aip_schema_archive',
    registers: [],
    async collect () {
      const read = await totals()
      this.set(read === null ? Number.NaN : read.bytes)
    },
  }))
}, { name: 'archives', dependencies: ['metrics'] })
