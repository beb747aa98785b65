import { InvalidTargetError, MultipleHeadsError, WrongDirectionError } from '../errors.js'
import { revisionIdPattern, type RevisionGraph } from './graph.js'

export type TargetExpression =
  | { readonly kind: 'head' }
  | { readonly kind: 'heads' }
  | { readonly kind: 'base' }
  | { readonly kind: 'revision', readonly ref: string }
  | { readonly kind: 'relative', readonly from: string | null, readonly steps: number }

/** A target as the caller wrote it and as it parsed: parsed once per operation, resolved against each state read. */
export interface ParsedTarget {
  readonly text: string
  readonly expression: TargetExpression
}

export interface ResolvedTarget {
  readonly expression: TargetExpression
  /** The revisions the target names; [] for base. */
  readonly destination: string[]
  /** What `alembic_version` holds afterwards. */
  readonly heads: string[]
}

export interface StampTarget {
  readonly destination: string[]
  readonly heads: string[]
}

const relative = new RegExp(`^(${revisionIdPattern})?([+-])([1-9][0-9]{0,5})$`)
const plainRef = new RegExp(`^${revisionIdPattern}$`)

/** Alembic's grammar: `head`, `heads`, `base`, an id or prefix, `+N`, `-N`, `<rev>+N`, `<rev>-N`. */
export function parseTarget (text: string): TargetExpression {
  if (text === 'head' || text === 'heads' || text === 'base') return { kind: text }
  const step = relative.exec(text)
  if (step !== null) {
    const from = step[1] ?? null
    if (from === 'heads') throw new InvalidTargetError(text, 'a relative step needs one starting revision, and heads may be several: name one')
    const steps = Number(step[3]) * (step[2] === '-' ? -1 : 1)
    return { kind: 'relative', from, steps }
  }
  if (plainRef.test(text)) return { kind: 'revision', ref: text }
  throw new InvalidTargetError(text, 'expected head, heads, base, a revision id or prefix (up to 64 letters, digits or underscores), +N, -N, <rev>+N or <rev>-N with N from 1 to 999999')
}

export function parsedTarget (text: string): ParsedTarget {
  return { text, expression: parseTarget(text) }
}

/**
 * Where an upgrade or downgrade ends, as Alembic would take it from `current`. As in Alembic,
 * an upgrade to a revision already applied (or to base) leaves everything as it is.
 */
export function resolveTarget (graph: RevisionGraph, current: readonly string[], target: string | ParsedTarget, direction: 'up' | 'down'): ResolvedTarget {
  const { text, expression } = typeof target === 'string' ? parsedTarget(target) : target
  const applied = graph.closure(current)
  // A version table may list an ancestor of another entry; what counts is what is applied.
  const currentHeads = graph.headsOf(applied)
  const result = (desired: Iterable<string>, destination: string[]): ResolvedTarget =>
    ({ expression, destination, heads: graph.headsOf(desired) })

  const toRevision = (id: string | null): ResolvedTarget => {
    if (id === null) return result(direction === 'up' ? applied : [], [])
    if (direction === 'up') return result([...applied, ...graph.closure([id])], [id])
    if (!applied.has(id)) throw new WrongDirectionError(text, direction, `${id} is not applied; upgrade instead`)
    const removed = graph.descendants(id)
    return result([...applied].filter((revision) => !removed.has(revision)), [id])
  }

  switch (expression.kind) {
    case 'heads':
      if (direction === 'down' && !sameMembers(currentHeads, graph.heads)) {
        throw new WrongDirectionError(text, direction, 'some heads are not applied; upgrade instead')
      }
      return result(graph.closure(graph.heads), [...graph.heads])
    case 'head':
      return toRevision(singleHead(graph, text))
    case 'base':
      return toRevision(null)
    case 'revision':
      return toRevision(graph.resolveRevision(expression.ref))
    case 'relative':
      // As Alembic: a step back from where the database stands is a downgrade; from a named revision it may be either.
      if (direction === 'up' && expression.from === null && expression.steps < 0) {
        throw new WrongDirectionError(text, direction, 'a negative step from the current revision goes down; downgrade instead')
      }
      return toRevision(walk(graph, startOf(graph, currentHeads, expression.from, text), expression.steps, text))
  }
}

/** Whether the target is where the graph's heads are, whatever the database holds: the no-op upgrade's question. */
export function namesTheHeads (graph: RevisionGraph, target: ParsedTarget): boolean {
  const { expression } = target
  const heads = graph.heads
  if (heads.length === 0) return false
  if (expression.kind === 'heads') return true
  if (expression.kind === 'head') return heads.length === 1
  if (expression.kind !== 'revision') return false
  try {
    return heads.length === 1 && heads[0] === graph.resolveRevision(expression.ref)
  } catch {
    // A bad reference is the full path's to report.
    return false
  }
}

/**
 * Where a stamp leaves `alembic_version`; nothing runs, so any direction goes. Current ids the
 * code does not know are dropped even without purge: being unknown, they are neither ancestors
 * nor descendants of the destination, and keeping them would keep the state no revision explains.
 */
export function resolveStampTarget (graph: RevisionGraph, current: readonly string[], target: string | ParsedTarget, purge: boolean): StampTarget {
  const { text, expression } = typeof target === 'string' ? parsedTarget(target) : target
  const known = graph.headsOf(graph.closure(current.filter((id) => graph.has(id))))
  let destination: string | null
  switch (expression.kind) {
    case 'base':
      return { destination: [], heads: [] }
    case 'heads':
      return { destination: [...graph.heads], heads: [...graph.heads] }
    case 'head':
      destination = singleHead(graph, text)
      break
    case 'revision':
      destination = graph.resolveRevision(expression.ref)
      break
    case 'relative':
      destination = walk(graph, startOf(graph, known, expression.from, text), expression.steps, text)
      break
  }
  if (destination === null) return { destination: [], heads: [] }
  if (purge) return { destination: [destination], heads: [destination] }
  // Within one line of history the stamp replaces it; unrelated branches stay as they are.
  const line = new Set([...graph.closure([destination]), ...graph.descendants(destination)])
  const unrelated = known.filter((id) => !line.has(id))
  return { destination: [destination], heads: graph.headsOf(graph.closure([...unrelated, destination])) }
}

function singleHead (graph: RevisionGraph, text: string): string {
  const [head, ...others] = graph.heads
  if (head === undefined) throw new InvalidTargetError(text, 'there are no revisions')
  if (others.length > 0) throw new MultipleHeadsError(text, graph.heads)
  return head
}

/** null is base. */
function startOf (graph: RevisionGraph, currentHeads: readonly string[], from: string | null, text: string): string | null {
  if (from === 'head') return singleHead(graph, text)
  if (from === 'base') return null
  if (from !== null) return graph.resolveRevision(from)
  if (currentHeads.length > 1) throw new MultipleHeadsError(text, currentHeads)
  return currentHeads[0] ?? null
}

/** Walks the graph, never clamping: off either end, or through a fork, is an error. */
function walk (graph: RevisionGraph, start: string | null, steps: number, text: string): string | null {
  let position = start
  for (let taken = 0; taken < Math.abs(steps); taken++) {
    if (steps < 0 && position === null) throw new InvalidTargetError(text, 'relative target walks off the graph below base')
    const next = position === null ? graph.bases : steps > 0 ? graph.children(position) : graph.get(position).downRevisions
    if (next.length > 1) {
      throw new InvalidTargetError(text, `relative target is ambiguous at ${position ?? 'base'}: it ${steps > 0 ? 'branches into' : 'merges'} ${next.join(', ')}; name a revision`)
    }
    if (steps > 0 && next.length === 0) {
      throw new InvalidTargetError(text, `relative target walks off the graph past ${position ?? 'base'}, which has nothing above it`)
    }
    // Below a base revision is base itself.
    position = next[0] ?? null
  }
  return position
}

function sameMembers (a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item))
}
