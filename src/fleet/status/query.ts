import { matchesLabels } from '../targets/target.js'
import type { FleetEntry } from './entry.js'

export interface FleetQuery {
  readonly environment?: string
  /** `k:v` each; all must hold. */
  readonly labels?: Readonly<Record<string, string>>
  readonly limit: number
  /** The last name of the previous page, as `nextCursor` gave it. */
  readonly cursor?: string
}

export interface FleetSummary {
  readonly total: number
  readonly upToDate: number
  readonly behind: number
  readonly ahead: number
  readonly unreachable: number
  readonly drifted: number
}

export interface FleetPage {
  readonly summary: FleetSummary
  readonly targets: FleetEntry[]
  readonly nextCursor: string | null
}

export class InvalidFleetQueryError extends Error {
  override readonly name = 'InvalidFleetQueryError'
}

/** `label=k:v` values as a selector; a value without `:` is the caller's mistake. */
export function labelSelector (values: readonly string[]): Record<string, string> {
  const selector: Record<string, string> = {}
  for (const value of values) {
    const at = value.indexOf(':')
    if (at <= 0) throw new InvalidFleetQueryError(`label "${value}" is not k:v`)
    selector[value.slice(0, at)] = value.slice(at + 1)
  }
  return selector
}

export function encodeCursor (name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url')
}

function decodeCursor (cursor: string): string {
  const name = Buffer.from(cursor, 'base64url').toString('utf8')
  if (name === '' || encodeCursor(name) !== cursor) throw new InvalidFleetQueryError('cursor is not one this service gave')
  return name
}

/**
 * The filtered fleet, its summary over every match (not only the page), then one page in name
 * order. `entries` must be sorted by name.
 */
export function fleetPage (entries: readonly FleetEntry[], query: FleetQuery): FleetPage {
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor)
  const selector = query.labels ?? {}
  const matching = entries.filter((entry) => (query.environment === undefined || entry.environment === query.environment) && matchesLabels(entry.labels, selector))
  const summary = { total: matching.length, upToDate: 0, behind: 0, ahead: 0, unreachable: 0, drifted: 0 }
  for (const entry of matching) {
    if (!entry.reachable) {
      if (entry.checkedAt !== null) summary.unreachable++
      continue
    }
    if (entry.upToDate) summary.upToDate++
    if (entry.pending > 0) summary.behind++
    if (entry.ahead.length > 0) summary.ahead++
    if (entry.inSync === false) summary.drifted++
  }
  const start = after === null ? 0 : firstAfter(matching, after)
  const page = matching.slice(start, start + query.limit)
  const last = page.at(-1)
  return { summary, targets: page, nextCursor: start + query.limit < matching.length && last !== undefined ? encodeCursor(last.name) : null }
}

/** Binary search: the first entry named after `name`. */
function firstAfter (entries: readonly FleetEntry[], name: string): number {
  let low = 0
  let high = entries.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((entries[middle] as FleetEntry).name <= name) low = middle + 1
    else high = middle
  }
  return low
}
