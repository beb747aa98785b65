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

export interface TargetLease { readonly migrator: SchemaMigrator, close (): Promise<void> }

export interface TargetSource {
  /** Promotion order. */
  readonly environments: readonly string[]
  list (): readonly RolloutTarget[]
  get (name: string): RolloutTarget | undefined
  /** A migrator on the target's own (direct) connection, held only while a job runs. */
  open (target: RolloutTarget): Promise<TargetLease>
  /** Told after a target's operation, so the fleet view shows it at once. */
  changed (target: RolloutTarget): void
}
