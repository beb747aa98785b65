import type { InterruptedRevision } from '../../migrator/index.js'

/** One target's row of the fleet view, as last checked. */
export interface FleetEntry {
  readonly name: string
  readonly environment: string
  readonly labels: Readonly<Record<string, string>>
  readonly reachable: boolean
  readonly current: string[]
  readonly upToDate: boolean
  /** How many revisions an upgrade to the heads would apply. */
  readonly pending: number
  readonly ahead: string[]
  readonly breaking: string[]
  readonly interrupted: InterruptedRevision | null
  /**
   * Drift is not computed for the fleet (null): it reads the whole catalog of each target, which at
   * a thousand targets costs far more than the status; `GET /schema/drift` answers it for one.
   */
  readonly inSync: boolean | null
  readonly lastOperation: { readonly id: string, readonly kind: string, readonly status: string, readonly finishedAt: string | null } | null
  /** When the target was last read; null: not yet. */
  readonly checkedAt: string | null
}

/** The state a target counts under in the summary and in `aip_schema_fleet_targets{state}`. */
export type FleetState = 'up-to-date' | 'behind' | 'ahead' | 'unreachable' | 'unchecked'

export function stateOf (entry: FleetEntry): FleetState {
  if (entry.checkedAt === null) return 'unchecked'
  if (!entry.reachable) return 'unreachable'
  if (entry.upToDate) return 'up-to-date'
  return entry.ahead.length > 0 && entry.pending === 0 ? 'ahead' : 'behind'
}
