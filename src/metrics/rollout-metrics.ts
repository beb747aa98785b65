import { Counter, Histogram, type Registry } from 'prom-client'
import type { RolloutMetrics } from '../fleet/rollouts/service.js'

/** Rollouts last from seconds (a few targets) to hours (thousands of tenants). */
const rolloutBuckets = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600]

/** No label per target: a fleet of thousands would make as many series. */
export function createRolloutMetrics (registry: Registry): RolloutMetrics {
  const duration = new Histogram({
    name: 'aip_schema_rollout_duration_seconds',
    help: 'How long each rollout took from its creation to its end (succeeded, failed or cancelled)',
    buckets: rolloutBuckets,
    registers: [registry],
  })
  const failures = new Counter({
    name: 'aip_schema_rollout_target_failures_total',
    help: "Rollout targets that failed or could not be reached, by the problem's type",
    labelNames: ['type'] as const,
    registers: [registry],
  })
  return {
    finished: (seconds) => duration.observe(seconds),
    targetFailed: (type) => failures.inc({ type }),
  }
}
