import type { Knex } from 'knex'
import type { SchemaMigrator } from '../../migrator/index.js'

/**
 * What rollouts need of the fleet's targets (src/fleet/targets: the registry, the connections and
 * the fleet cache), narrowed to its use here so the scheduler and its tests stand apart from discovery.
 */
export interface RolloutTarget {
  readonly name: string
  readonly environment: string
  readonly labels: Readonly<Record<string, string>>
}

export interface TargetLease {
  readonly migrator: SchemaMigrator
  /** The migrator's connection to the target. */
  readonly knex: Knex
  close (): Promise<void>
}

export interface TargetSource {
  /** Promotion order. */
  readonly environments: readonly string[]
  list (): readonly RolloutTarget[]
  get (name: string): RolloutTarget | undefined
  /** A migrator on the target's own (direct) connection, held only while a job runs. */
  open (target: RolloutTarget): Promise<TargetLease>
  /**
   * Told after a target's operation, before its lease closes, so the fleet view shows it at
   * once, read on the lease's connection rather than on one of its own. Never throws.
   */
  changed (target: RolloutTarget, lease: TargetLease): Promise<void>
}
