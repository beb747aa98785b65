import { AmbiguousRevisionError, InvalidRevisionGraphError, UnknownRevisionError } from '../errors.js'
import { PriorityQueue } from './priority-queue.js'
import type { Revision } from '../revision.js'

/** What the target grammar can name; an id it could not name could never be migrated to. */
export const revisionIdPattern = '[A-Za-z0-9_]{1,64}'
/** Target keywords: a revision named like one would be shadowed by it. */
const targetKeywords: ReadonlySet<string> = new Set(['head', 'heads', 'base'])
const revisionId = new RegExp(`^${revisionIdPattern}$`)

/** The revisions and their links, validated once; pure, no I/O. */
export class RevisionGraph {
  /** Revisions no other revises, in topological order. */
  readonly heads: readonly string[]
  /** Revisions that revise nothing, in topological order. */
  readonly bases: readonly string[]
  private readonly byId: ReadonlyMap<string, Revision>
  private readonly childrenOf: ReadonlyMap<string, readonly string[]>
  private readonly order: readonly Revision[]
  private readonly position: ReadonlyMap<string, number>

  private constructor (byId: ReadonlyMap<string, Revision>, order: readonly Revision[]) {
    this.byId = byId
    this.order = order
    this.position = new Map(order.map((revision, index) => [revision.revision, index]))
    const children = new Map<string, string[]>(order.map((revision) => [revision.revision, []]))
    for (const revision of order) {
      for (const parent of revision.downRevisions) children.get(parent)?.push(revision.revision)
    }
    this.childrenOf = children
    this.heads = order.filter((revision) => children.get(revision.revision)?.length === 0).map((revision) => revision.revision)
    this.bases = order.filter((revision) => revision.downRevisions.length === 0).map((revision) => revision.revision)
  }

  /** Throws one error naming every problem, so a broken checkout is fixed in one pass. */
  static build (revisions: readonly Revision[]): RevisionGraph {
    const problems: string[] = []
    const byId = new Map<string, Revision>()
    for (const revision of revisions) {
      if (!revisionId.test(revision.revision) || targetKeywords.has(revision.revision)) {
        problems.push(`${revision.file} has revision id '${revision.revision}': ids are 1 to 64 letters, digits or underscores, and not head, heads or base`)
        continue
      }
      const existing = byId.get(revision.revision)
      if (existing !== undefined) {
        problems.push(`duplicate revision ${revision.revision} in ${existing.file} and ${revision.file}`)
        continue
      }
      byId.set(revision.revision, revision)
    }
    for (const revision of byId.values()) {
      const seen = new Set<string>()
      for (const parent of revision.downRevisions) {
        if (seen.has(parent)) problems.push(`${revision.revision} (${revision.file}) lists down revision ${parent} twice`)
        else if (!byId.has(parent)) problems.push(`${revision.revision} (${revision.file}) revises ${parent}, which does not exist`)
        seen.add(parent)
      }
    }
    const order = topologicalOrder(byId)
    if (order.length < byId.size) {
      const placed = new Set(order.map((revision) => revision.revision))
      for (const cycle of cycles(byId, placed)) {
        problems.push(`cycle through ${cycle.map((revision) => `${revision.revision} (${revision.file})`).join(', ')}`)
      }
    }
    if (problems.length > 0) throw new InvalidRevisionGraphError(problems)
    return new RevisionGraph(byId, order)
  }

  has (id: string): boolean {
    return this.byId.has(id)
  }

  get (id: string): Revision {
    const revision = this.byId.get(id)
    if (revision === undefined) throw new UnknownRevisionError(id)
    return revision
  }

  /** Parents before children; ties broken by create date, then id. */
  all (): readonly Revision[] {
    return this.order
  }

  /** In topological order. */
  children (id: string): readonly string[] {
    const children = this.childrenOf.get(id)
    if (children === undefined) throw new UnknownRevisionError(id)
    return children
  }

  isBranchPoint (id: string): boolean {
    return this.children(id).length > 1
  }

  isMergePoint (id: string): boolean {
    return this.get(id).downRevisions.length > 1
  }

  ancestors (id: string): Set<string> {
    const found = this.closure([id])
    found.delete(id)
    return found
  }

  descendants (id: string): Set<string> {
    return reach(this.children(id), (next) => this.children(next))
  }

  /** The ids and all their ancestors: the revisions applied when `alembic_version` holds `ids`. */
  closure (ids: Iterable<string>): Set<string> {
    return reach(ids, (next) => this.get(next).downRevisions)
  }

  /** The members of an ancestor-closed set with no child inside it: what `alembic_version` holds. */
  headsOf (set: Iterable<string>): string[] {
    const members = new Set(set)
    return this.order
      .filter((revision) => members.has(revision.revision) && !this.children(revision.revision).some((child) => members.has(child)))
      .map((revision) => revision.revision)
  }

  /** `ids` in topological order, without walking the whole graph as `headsOf` does. */
  inOrder (ids: Iterable<string>): string[] {
    const positionOf = (id: string) => {
      const position = this.position.get(id)
      if (position === undefined) throw new UnknownRevisionError(id)
      return position
    }
    return [...ids].sort((a, b) => positionOf(a) - positionOf(b))
  }

  /** An exact id, else a unique prefix of one. */
  resolveRevision (ref: string): string {
    if (this.byId.has(ref)) return ref
    // An empty prefix would match everything: it names nothing.
    if (ref === '') throw new UnknownRevisionError(ref)
    const candidates = [...this.byId.keys()].filter((id) => id.startsWith(ref)).sort()
    const [only, ...others] = candidates
    if (only === undefined) throw new UnknownRevisionError(ref)
    if (others.length > 0) throw new AmbiguousRevisionError(ref, candidates)
    return only
  }
}

/** `start` and everything `next` leads to from it. */
function reach (start: Iterable<string>, next: (id: string) => readonly string[]): Set<string> {
  const found = new Set<string>()
  const queue = [...start]
  for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
    if (found.has(id)) continue
    found.add(id)
    queue.push(...next(id))
  }
  return found
}

/** Kahn's algorithm, always taking the earliest ready revision; what a cycle blocks is left out. */
function topologicalOrder (byId: ReadonlyMap<string, Revision>): Revision[] {
  // A missing parent is reported as dangling, not as a cycle; one listed twice waits once.
  const waitingOn = new Map<string, number>()
  const childrenOf = new Map<string, Revision[]>()
  for (const revision of byId.values()) {
    const parents = new Set(revision.downRevisions.filter((parent) => byId.has(parent)))
    waitingOn.set(revision.revision, parents.size)
    for (const parent of parents) {
      const children = childrenOf.get(parent)
      if (children === undefined) childrenOf.set(parent, [revision])
      else children.push(revision)
    }
  }
  const ready = new PriorityQueue<Revision>(byDateThenId)
  for (const revision of byId.values()) if (waitingOn.get(revision.revision) === 0) ready.push(revision)
  const order: Revision[] = []
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    order.push(next)
    for (const child of childrenOf.get(next.revision) ?? []) {
      const waiting = (waitingOn.get(child.revision) ?? 0) - 1
      waitingOn.set(child.revision, waiting)
      if (waiting === 0) ready.push(child)
    }
  }
  return order
}

/** The cycles among what could not be ordered, without the revisions that merely descend from one. */
function cycles (byId: ReadonlyMap<string, Revision>, placed: ReadonlySet<string>): Revision[][] {
  const blocked = [...byId.values()].filter((revision) => !placed.has(revision.revision)).sort(byRevisionId)
  // What each reaches in one step or more: a revision on a cycle reaches itself.
  const reachable = new Map(blocked.map((revision) =>
    [revision.revision, reach(revision.downRevisions, (id) => byId.get(id)?.downRevisions ?? [])]))
  const reaches = (from: string, to: string) => reachable.get(from)?.has(to) === true
  const found: Revision[][] = []
  const named = new Set<string>()
  for (const { revision } of blocked) {
    if (named.has(revision) || !reaches(revision, revision)) continue
    const cycle = blocked.filter((other) => reaches(revision, other.revision) && reaches(other.revision, revision))
    for (const member of cycle) named.add(member.revision)
    found.push(cycle)
  }
  return found
}

/** A total order, so the result never depends on the order files were read in. */
function byDateThenId (a: Revision, b: Revision): number {
  return compareDates(a.createDate, b.createDate) || byRevisionId(a, b)
}

/** Valid dates by instant (offsets differ in text, not in time), unparsable ones after them by text. */
function compareDates (a: string, b: string): number {
  const [timeA, timeB] = [Date.parse(a), Date.parse(b)]
  if (Number.isNaN(timeA) || Number.isNaN(timeB)) {
    return Number(Number.isNaN(timeA)) - Number(Number.isNaN(timeB)) || compareText(a, b)
  }
  return timeA - timeB
}

function byRevisionId (a: Revision, b: Revision): number {
  return compareText(a.revision, b.revision)
}

/** Code-unit order, the same in every locale. */
function compareText (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
