import { analyseState, isCompatiblyAhead, type StateAnalysis } from './state-analysis.js'
import { InvalidCursorError } from '../errors.js'
import type { RevisionGraph } from './graph.js'
import type { DatabaseState, InterruptedRevision } from '../store/state.js'

export interface SchemaStatus {
  readonly current: string[]
  readonly heads: string[]
  readonly upToDate: boolean
  readonly pending: string[]
  /** Applied revisions this code does not have: a newer release's. */
  readonly ahead: string[]
  /** The `ahead` revisions that older code cannot live with. */
  readonly breaking: string[]
  readonly interrupted: InterruptedRevision | null
}

/** What one state read means to this code; computed once per read. */
export interface StateView {
  readonly status: SchemaStatus
  readonly analysis: StateAnalysis
  /**
   * Whether this code may serve the database: at its heads, or behind a newer release that
   * only expanded the schema (no breaking revision applied).
   */
  readonly serviceable: boolean
}

export interface HistoryEntry {
  readonly revision: string
  readonly downRevisions: string[]
  readonly description: string
  readonly createDate: string
  readonly isHead: boolean
  /** Defined as breaking: replicas whose code lacks it turn unready once it is applied. */
  readonly breaking: boolean
  readonly applied: boolean
  readonly appliedAt: string | null
}

export function viewOf (graph: RevisionGraph, state: DatabaseState): StateView {
  const analysis = analyseState(graph, state)
  const heads = [...graph.heads]
  const upToDate = analysis.pending.length === 0 && sameSet(state.heads, heads)
  return {
    status: {
      current: state.heads,
      heads,
      upToDate,
      pending: analysis.pending,
      ahead: analysis.ahead,
      breaking: analysis.breaking,
      interrupted: state.interrupted,
    },
    analysis,
    serviceable: upToDate || (isCompatiblyAhead(analysis) && analysis.breaking.length === 0),
  }
}

export interface HistoryPage {
  readonly revisions: HistoryEntry[]
  /** Where the next page starts; null on the last. */
  readonly nextCursor: string | null
}

/**
 * This code's revisions, newest first, with whether and when each was applied: all of them, or
 * `limit` after the revision the cursor names. The cursor is opaque to callers.
 */
export function historyOf (graph: RevisionGraph, view: StateView, state: DatabaseState, page: { limit?: number, cursor?: string } = {}): HistoryPage {
  const heads = new Set(graph.heads)
  const newestFirst = [...graph.all()].reverse()
  const start = page.cursor === undefined ? 0 : newestFirst.findIndex((revision) => revision.revision === revisionOfCursor(page.cursor ?? '')) + 1
  if (start === 0 && page.cursor !== undefined) throw new InvalidCursorError(page.cursor)
  const end = page.limit === undefined ? newestFirst.length : Math.min(start + page.limit, newestFirst.length)
  const revisions = newestFirst.slice(start, end).map((revision) => ({
    revision: revision.revision,
    downRevisions: [...revision.downRevisions],
    description: revision.description,
    createDate: revision.createDate,
    isHead: heads.has(revision.revision),
    breaking: revision.breaking,
    applied: view.analysis.applied.has(revision.revision),
    appliedAt: state.applied.get(revision.revision)?.appliedAt ?? null,
  }))
  const last = revisions.at(-1)
  return { revisions, nextCursor: end < newestFirst.length && last !== undefined ? cursorAfter(last.revision) : null }
}

function cursorAfter (revision: string): string {
  return Buffer.from(JSON.stringify({ after: revision })).toString('base64url')
}

function revisionOfCursor (cursor: string): string | null {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }
    return typeof after === 'string' ? after : null
  } catch {
    return null
  }
}

function sameSet (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item))
}
