import fp from 'fastify-plugin'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { observeHttpRequests } from '../metrics/http-metrics.js'
import { createMigrationMetrics } from '../metrics/migration-metrics.js'
import type { MigratorObserver } from '../migrator/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Feeds the migration metrics; handed to the migrator when it is built. */
    migrationObserver: MigratorObserver
    /** For the plugins registered later that expose a metric of their own. */
    metricsRegistry: Registry
  }
}

const metricsPath = '/metrics'

/**
 * Prometheus metrics on a registry of this app's own (prom-client's global one would refuse the
 * second app a process builds): HTTP request durations, the process's defaults, and
 * the migration metrics. Registered before the migrator and the routes, so both are observed.
 */
export default fp(async (fastify) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  observeHttpRequests(fastify, registry, [metricsPath])
  fastify.decorate('metricsRegistry', registry)
  fastify.decorate('migrationObserver', createMigrationMetrics({
    registry,
    // The cached state `/migrations/current` answers from (schema-state, registered later): no query per scrape.
    status: async () => fastify.migrator.statusOf(await fastify.schemaState.state()),
    onStatusFailed: (error) => fastify.log.warn({ err: error }, 'metrics: could not read the schema status'),
  }))

  fastify.get(metricsPath, {
    logLevel: 'warn',
    schema: {
      operationId: 'getMetrics',
      tags: ['health'],
      summary: 'Prometheus metrics: HTTP, process, and the migration metrics (aip_schema_*)',
      response: {
        200: {
          description: 'the Prometheus text exposition format',
          content: { [registry.contentType]: { schema: { type: 'string' } } },
        },
      },
    },
  }, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
}, { name: 'metrics' })
