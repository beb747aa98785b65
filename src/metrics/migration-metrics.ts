import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { MigratorObserver, SchemaStatus } from '../migrator/index.js'

export interface MigrationMetricsOptions {
  readonly registry: Registry
  /** The schema's status when Prometheus scrapes; when it fails, that scrape shows pending as NaN and no revision. */
  readonly status: () => Promise<SchemaStatus>
  readonly onStatusFailed: (error: unknown) => void
}

/** Migrations last from milliseconds to hours; the lock is usually free, or held for a whole migration. */
const migrationBuckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]
const lockWaitBuckets = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 300]

/** The engine's metrics: fed by the migrator's observer, and the schema's state read at scrape time. */
export function createMigrationMetrics (options: MigrationMetricsOptions): MigratorObserver {
  const registers = [options.registry]
  const duration = new Histogram({
    name: 'aip_schema_migration_duration_seconds',
    help: 'How long each revision took to apply or revert, by outcome (succeeded, failed, dry-run)',
    labelNames: ['revision', 'direction', 'outcome'] as const,
    buckets: migrationBuckets,
    registers,
  })
  const lockWait = new Histogram({
    name: 'aip_schema_lock_wait_seconds',
    help: 'How long an operation waited for the cluster-wide migration lock before taking it',
    buckets: lockWaitBuckets,
    registers,
  })

  const backfillRows = new Counter({
    name: 'aip_schema_backfill_rows_total',
    help: 'Rows updated by batched backfills, by revision and table',
    labelNames: ['revision', 'table'] as const,
    registers,
  })

  // Both gauges come from one status read per scrape: the registry collects every metric at once.
  let scrape: Promise<SchemaStatus | null> | null = null
  const status = (): Promise<SchemaStatus | null> => {
    scrape ??= options.status()
      .catch((error: unknown) => {
        options.onStatusFailed(error)
        return null
      })
      .finally(() => { scrape = null })
    return scrape
  }
  options.registry.registerMetric(new Gauge({
    name: 'aip_schema_pending_revisions',
    help: 'Revisions of the code not yet applied to the database',
    registers: [],
    async collect () {
      const current = await status()
      // NaN, not 0: an unreadable database must not look like one with nothing pending.
      this.set(current === null ? Number.NaN : current.pending.length)
    },
  }))
  options.registry.registerMetric(new Gauge({
    name: 'aip_schema_revision_info',
    help: 'The revisions the database is at (alembic_version): 1 for each',
    labelNames: ['revision'] as const,
    registers: [],
    async collect () {
      this.reset()
      const current = await status()
      for (const revision of current?.current ?? []) this.set({ revision }, 1)
    },
  }))

  return {
    onStep: ({ revision, direction, outcome, durationMs }) => duration.observe({ revision, direction, outcome }, durationMs / 1000),
    onLockAcquired: ({ waitMs }) => lockWait.observe(waitMs / 1000),
    onBackfillProgress: ({ revision, table, batchRows }) => backfillRows.inc({ revision, table }, batchRows),
  }
}
