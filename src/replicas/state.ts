import type { StateView } from '../migrator/index.js'

export type ReplicaState = 'ready' | 'compatible-ahead' | 'unready'

export interface ReplicaReadiness {
  readonly state: ReplicaState
  /** Why it is not simply ready, in words an operator acts on; null when it is. */
  readonly reason: string | null
}

const listed = (revisions: readonly string[]): string => revisions.join(', ')

/**
 * What a replica says of itself, from its view of the database (null: it could not read it).
 * The order follows what an operator must fix first: a database nothing can serve, then a
 * breaking revision, then what is pending.
 */
export function readinessOf (view: StateView | null): ReplicaReadiness {
  if (view === null) return { state: 'unready', reason: 'the database cannot be read' }
  const { status, analysis, serviceable } = view
  if (analysis.unknown.length > 0) return { state: 'unready', reason: `the database is at revisions no release recorded: ${listed(analysis.unknown)}` }
  if (analysis.mismatched.length > 0) return { state: 'unready', reason: `applied revisions changed since: ${listed(analysis.mismatched)}` }
  if (status.breaking.length > 0) return { state: 'unready', reason: `a newer release applied breaking revisions this release lacks: ${listed(status.breaking)}` }
  if (status.pending.length > 0) return { state: 'unready', reason: `${status.pending.length} revision(s) of this release not applied: ${listed(status.pending)}` }
  if (!serviceable) return { state: 'unready', reason: `the database is at ${listed(status.current) || 'base'}, not at this release's heads ${listed(status.heads)}` }
  if (status.ahead.length > 0) return { state: 'compatible-ahead', reason: `the database has revisions this release lacks, none breaking: ${listed(status.ahead)}` }
  return { state: 'ready', reason: null }
}
