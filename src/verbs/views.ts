import { statementsOf, type RevisionGraph } from '../migrator/index.js'

export interface HeadsView {
  readonly heads: Array<{ readonly revision: string, readonly description: string }>
}

/** One revision as `GET /migrations/revisions/{rev}` and `aip-schema show` tell it. */
export interface RevisionView {
  readonly revision: string
  readonly downRevisions: string[]
  readonly description: string
  readonly createDate: string
  readonly isHead: boolean
  readonly transactional: boolean
  readonly breaking: boolean
  readonly checksum: string
  readonly up: string[]
  readonly down: string[]
}

/** The graph's heads, as `GET /migrations/heads` and `aip-schema heads` tell them. */
export function headsView (graph: RevisionGraph): HeadsView {
  return { heads: graph.heads.map((id) => ({ revision: id, description: graph.get(id).description })) }
}

/** The revision `ref` names (an id or a unique prefix); unknown or ambiguous, the graph's error. */
export function revisionView (graph: RevisionGraph, ref: string): RevisionView {
  const revision = graph.get(graph.resolveRevision(ref))
  return {
    revision: revision.revision,
    downRevisions: [...revision.downRevisions],
    description: revision.description,
    createDate: revision.createDate,
    isHead: graph.heads.includes(revision.revision),
    transactional: revision.transactional,
    breaking: revision.breaking,
    checksum: revision.checksum,
    up: [...statementsOf(revision, 'up')],
    down: [...statementsOf(revision, 'down')],
  }
}
