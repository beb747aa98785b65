import fp from 'fastify-plugin'
import type { Knex } from 'knex'
import { Gauge } from 'prom-client'
import { PooledMigrationConnectionError } from '../migrator/index.js'
import { poolGoesThroughTransactionPooler } from '../database/pooler.js'
import { createKnex } from './knex.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The pool on `MIGRATION_DATABASE_URL`: the migrator's, never the data routes'. */
    migrationKnex: Knex
    migrationConnection: MigrationConnection
  }
}

export interface MigrationConnection {
  /** Whether the migration connection goes through a transaction pooler; null until a probe answered. */
  readonly pooled: boolean | null
  /** Probes until one answers; the answer is kept (the lock probes again before each migration). */
  verdict (): Promise<boolean>
  /** Refuses when the last answer said pooled, before any work or lock. */
  assertDirect (): Promise<void>
}

export interface MigrationConnectionOptions {
  readonly databaseUrl: string
  readonly acquireTimeoutMs: number
}

/**
 * The migrator's own pool, on the direct URL, with no statement timeout (a migration sets its
 * own). The lock's session, the probe's second connection behind a pooler and the verb's queries fit in it.
 * At start the URL is probed for a transaction pooler, and said once in the log when it is one.
 */
export default fp<MigrationConnectionOptions>(async (fastify, options) => {
  const knex = createKnex(options.databaseUrl, { max: 4, acquireTimeoutMs: options.acquireTimeoutMs }, fastify.log)
  let pooled: boolean | null = null
  let probing: Promise<boolean> | null = null
  const connection: MigrationConnection = {
    get pooled () { return pooled },
    async verdict () {
      if (pooled !== null) return pooled
      probing ??= poolGoesThroughTransactionPooler(knex).finally(() => { probing = null })
      pooled = await probing
      return pooled
    },
    async assertDirect () {
      if (await connection.verdict()) throw new PooledMigrationConnectionError()
    },
  }
  fastify.metricsRegistry.registerMetric(new Gauge({
    name: 'aip_schema_migration_connection_pooled',
    help: 'Whether the migration connection goes through a transaction pooler (1: migrations are refused); NaN until probed',
    registers: [],
    collect () { this.set(pooled === null ? Number.NaN : Number(pooled)) },
  }))
  fastify.decorate('migrationKnex', knex)
  fastify.decorate('migrationConnection', connection)
  fastify.addHook('onReady', async () => {
    connection.verdict().then((found) => {
      if (found) fastify.log.warn(new PooledMigrationConnectionError().message)
    }, () => undefined)
  })
  fastify.addHook('onClose', async () => { await knex.destroy() })
}, { name: 'migration-connection', dependencies: ['metrics'] })
