import t from 'tap'
import { analyseState, isCompatiblyAhead, verifyDatabaseState } from '../../../src/migrator/graph/state-analysis.js'
import { DatabaseAheadError, DatabaseStateMismatchError } from '../../../src/migrator/errors.js'
import { RevisionGraph } from '../../../src/migrator/graph/graph.js'
import { planFor } from '../../../src/migrator/graph/plan.js'
import type { AppliedRevision, DatabaseState } from '../../../src/migrator/store/state.js'
import { parsedTarget } from '../../../src/migrator/graph/targets.js'
import { rev, thrown } from '../../helpers/revisions.js'

// This release's code: a -> b. A newer release added c (expand) and d (contract) on top.
const graph = RevisionGraph.build([rev('a'), rev('b', ['a'])])

function applied (downRevisions: string[] | null, extra: Partial<AppliedRevision> = {}): AppliedRevision {
  return { checksum: 'x', appliedAt: '2026-01-01T00:00:00.000Z', downRevisions, description: null, breaking: false, ...extra }
}

function state (heads: string[], records: Record<string, AppliedRevision> = {}): DatabaseState {
  return { heads, applied: new Map(Object.entries({ a: applied(null), b: applied(['a']), ...records })), interrupted: null }
}

t.test('at this code heads: nothing ahead, nothing pending', async (t) => {
  const analysis = analyseState(graph, state(['b']))
  t.same(analysis.ahead, [])
  t.same(analysis.pending, [])
  t.same(analysis.knownHeads, ['b'])
  t.notOk(isCompatiblyAhead(analysis))
})

t.test('a newer release recorded its revisions: ahead, placed through the records', async (t) => {
  const analysis = analyseState(graph, state(['d'], { c: applied(['b']), d: applied(['c'], { breaking: true }) }))
  t.same(analysis.ahead, ['c', 'd'])
  t.same(analysis.breaking, ['d'])
  t.same(analysis.unknown, [])
  t.same(analysis.pending, [])
  t.same([...analysis.applied].sort(), ['a', 'b'])
  t.same(analysis.knownHeads, ['b'])
  t.ok(isCompatiblyAhead(analysis))
})

t.test('a breaking revision under a non-breaking one is breaking: every revision a newer release applied counts, not its heads', async (t) => {
  const analysis = analyseState(graph, state(['d'], { c: applied(['b'], { breaking: true }), d: applied(['c']) }))
  t.same(analysis.ahead, ['c', 'd'])
  t.same(analysis.breaking, ['c'])
  t.ok(isCompatiblyAhead(analysis), 'ahead on top of this code, but not servable: the breaking revision decides')
})

t.test('a head nobody recorded is unknown, and nothing is compatible about it', async (t) => {
  const analysis = analyseState(graph, state(['z']))
  t.same(analysis.unknown, ['z'])
  t.same(analysis.ahead, [])
  t.notOk(isCompatiblyAhead(analysis))
  t.same(thrown(t, () => verifyDatabaseState(graph, state(['z'])), DatabaseStateMismatchError).unknownRevisions, ['z'])
})

t.test('a recorded chain that leads to an unrecorded revision is unknown at that revision', async (t) => {
  const analysis = analyseState(graph, state(['d'], { d: applied(['c']) }))
  t.same(analysis.ahead, ['d'])
  t.same(analysis.unknown, ['c'])
  t.notOk(isCompatiblyAhead(analysis))
})

t.test('ahead of a database where this code still has pending revisions is not compatible', async (t) => {
  const analysis = analyseState(graph, state(['c'], { c: applied(['a']) }))
  t.same(analysis.ahead, ['c'])
  t.same(analysis.pending, ['b'])
  t.notOk(isCompatiblyAhead(analysis))
})

t.test('what each verb may do on a database ahead', async (t) => {
  const outcomeOn = (on: DatabaseState, kind: 'upgrade' | 'downgrade' | 'stamp', target: string, purge = false) =>
    planFor(graph, on, { kind, target: parsedTarget(target), purge }).nothingToDo ? 'nothing-to-do' : 'proceed'
  const ahead = state(['c'], { c: applied(['b']) })
  const outcome = (kind: 'upgrade' | 'downgrade' | 'stamp', target: string, purge = false) => outcomeOn(ahead, kind, target, purge)
  for (const target of ['head', 'heads', 'b', 'a', 'base']) t.equal(outcome('upgrade', target), 'nothing-to-do', `upgrade ${target}`)
  t.same(thrown(t, () => outcome('upgrade', '+1'), Error).message, "invalid target '+1': relative target walks off the graph past b, which has nothing above it")
  t.same(thrown(t, () => outcome('downgrade', '-1'), DatabaseAheadError).ahead, ['c'])
  t.throws(() => outcome('stamp', 'head'), DatabaseAheadError)
  t.equal(outcome('stamp', 'head', true), 'proceed', 'stamp --purge is the repair tool')
  t.equal(outcomeOn(state(['b']), 'downgrade', '-1'), 'proceed', 'not ahead: anything goes')
  t.throws(() => outcomeOn(state(['c'], { c: applied(['a']) }), 'upgrade', 'head'), DatabaseAheadError, 'not compatible: refused')
})
