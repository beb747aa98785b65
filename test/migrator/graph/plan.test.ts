import t from 'tap'
import { DatabaseStateMismatchError, WrongDirectionError } from '../../../src/migrator/errors.js'
import { RevisionGraph } from '../../../src/migrator/graph/graph.js'
import { planFor } from '../../../src/migrator/graph/plan.js'
import { namesTheHeads, parsedTarget } from '../../../src/migrator/graph/targets.js'
import type { DatabaseState } from '../../../src/migrator/store/state.js'
import { rev, thrown } from '../../helpers/revisions.js'

// a -> b -> c, and d beside b: two heads, c and d.
const graph = RevisionGraph.build([rev('a'), rev('b', ['a']), rev('c', ['b']), rev('d', ['a'])])

function at (heads: string[], applied: Record<string, string> = {}): DatabaseState {
  return {
    heads,
    applied: new Map(Object.entries(applied).map(([id, checksum]) => [id, { checksum, appliedAt: '2026-01-01T00:00:00.000Z', downRevisions: null, description: null, breaking: false }])),
    interrupted: null,
  }
}

t.test('an upgrade: the target resolved, the steps, where it ends', async (t) => {
  const plan = planFor(graph, at(['b']), { kind: 'upgrade', target: parsedTarget('heads') })
  t.equal(plan.nothingToDo, false)
  t.same(plan.destination, ['c', 'd'])
  t.same(plan.to, ['c', 'd'])
  t.same(plan.steps, [{ revision: 'c', direction: 'up' }, { revision: 'd', direction: 'up' }])
  t.same(plan.analysis.pending, ['c', 'd'])
})

t.test('a downgrade walks back through what is applied, children first', async (t) => {
  const plan = planFor(graph, at(['c', 'd']), { kind: 'downgrade', target: parsedTarget('a') })
  t.same(plan.steps, [{ revision: 'd', direction: 'down' }, { revision: 'c', direction: 'down' }, { revision: 'b', direction: 'down' }])
  t.same(plan.to, ['a'])
})

t.test('a stamp has a destination and no steps; a changed checksum does not stop it', async (t) => {
  const changed = at(['b'], { a: 'other', b: graph.get('b').checksum })
  t.throws(() => planFor(graph, changed, { kind: 'upgrade', target: parsedTarget('heads') }), DatabaseStateMismatchError, 'an upgrade refuses changed SQL')
  const plan = planFor(graph, changed, { kind: 'stamp', target: parsedTarget('c') })
  t.same(plan.steps, [])
  t.same(plan.to, ['c'])
  t.same(planFor(graph, at(['zzz']), { kind: 'stamp', target: parsedTarget('a'), purge: true }).to, ['a'], 'purge: out of a revision nothing explains')
})

t.test('a step back on upgrade is refused whatever the state', async (t) => {
  for (const heads of [[], ['b'], ['c', 'd']]) {
    t.equal(thrown(t, () => planFor(graph, at(heads), { kind: 'upgrade', target: parsedTarget('-1') }), WrongDirectionError).direction, 'up', `at ${heads.join(',') || 'base'}`)
  }
  t.same(planFor(graph, at(['a']), { kind: 'upgrade', target: parsedTarget('c-1') }).to, ['b'], 'from a named revision a step back may still be an upgrade, as in Alembic')
})

t.test('the no-op upgrade is asked of targets that name the heads', async (t) => {
  const single = RevisionGraph.build([rev('a'), rev('b', ['a'])])
  t.ok(namesTheHeads(single, parsedTarget('head')))
  t.ok(namesTheHeads(single, parsedTarget('heads')))
  t.ok(namesTheHeads(single, parsedTarget('b')), 'the head by its id')
  t.notOk(namesTheHeads(single, parsedTarget('a')))
  t.notOk(namesTheHeads(single, parsedTarget('+1')), 'relative: depends on the state')
  t.notOk(namesTheHeads(single, parsedTarget('zz')), 'an unknown revision is the full path\'s to report')
  t.notOk(namesTheHeads(graph, parsedTarget('head')), 'head with two heads is an error for the full path')
  t.ok(namesTheHeads(graph, parsedTarget('heads')))
  t.notOk(namesTheHeads(RevisionGraph.build([]), parsedTarget('heads')), 'no revisions: nothing to skip')
})
