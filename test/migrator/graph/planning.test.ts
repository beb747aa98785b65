import t from 'tap'
import { RevisionGraph } from '../../../src/migrator/graph/graph.js'
import { headsAfterStep, isForward, planMigration, type PlanStep } from '../../../src/migrator/graph/planning.js'
import { resolveTarget } from '../../../src/migrator/graph/targets.js'
import { rev } from '../../helpers/revisions.js'

const [r1, r2, r3, r4] = ['5c1b6116de51', 'a1b2c3d4e5f6', 'b2c3d4e5f6g7', 'c3d4e5f6g7h8'] as const
const linear = RevisionGraph.build([rev(r1), rev(r2, [r1]), rev(r3, [r2]), rev(r4, [r3])])
const branched = RevisionGraph.build([rev('root'), rev('left', ['root']), rev('right', ['root'])])
// root ─┬─ left ──┬─ merge ─ after
//       └─ right ─┘
const merged = RevisionGraph.build([rev('root'), rev('left', ['root']), rev('right', ['root']), rev('merge', ['left', 'right']), rev('after', ['merge'])])

const steps = (plan: PlanStep[]) => plan.map((step) => `${step.direction === 'up' ? '+' : '-'}${step.revision}`)

/** Replays a plan step by step, as the executor writes `alembic_version`. */
function replay (graph: RevisionGraph, current: readonly string[], plan: PlanStep[]): string[] {
  return plan.reduce<string[]>((heads, step) => headsAfterStep(graph, heads, step), [...current])
}

/** Every ancestor-closed set of a small graph, as the version table would hold it. */
function everyState (graph: RevisionGraph): string[][] {
  const ids = graph.all().map((revision) => revision.revision)
  const states: string[][] = []
  for (let mask = 0; mask < 2 ** ids.length; mask++) {
    const set = ids.filter((_, index) => (mask & (1 << index)) !== 0)
    if (graph.closure(set).size === set.length) states.push(graph.headsOf(set))
  }
  return states
}

t.test('a chain, up and down', async (t) => {
  t.same(planMigration(linear, [], [r4]), [
    { revision: r1, direction: 'up' },
    { revision: r2, direction: 'up' },
    { revision: r3, direction: 'up' },
    { revision: r4, direction: 'up' },
  ])
  t.same(steps(planMigration(linear, [r2], [r4])), [`+${r3}`, `+${r4}`])
  t.same(steps(planMigration(linear, [r4], [r1])), [`-${r4}`, `-${r3}`, `-${r2}`])
  t.same(steps(planMigration(linear, [r4], [])), [`-${r4}`, `-${r3}`, `-${r2}`, `-${r1}`])
  t.same(planMigration(linear, [r2], [r2]), [], 'nothing to do')
  t.same(planMigration(linear, [], []), [])
  t.same(replay(linear, [], planMigration(linear, [], [r4])), [r4])
  t.same(replay(linear, [r4], planMigration(linear, [r4], [r1])), [r1])
  t.same(replay(linear, [r4], planMigration(linear, [r4], [])), [])
})

t.test('each step of a chain moves the version table by one', async (t) => {
  t.same(headsAfterStep(linear, [], { revision: r1, direction: 'up' }), [r1])
  t.same(headsAfterStep(linear, [r1], { revision: r2, direction: 'up' }), [r2])
  t.same(headsAfterStep(linear, [r2], { revision: r2, direction: 'down' }), [r1])
  t.same(headsAfterStep(linear, [r1], { revision: r1, direction: 'down' }), [])
})

t.test('branches: heads applies both, a downgrade of one leaves the other', async (t) => {
  const target = resolveTarget(branched, [], 'heads', 'up')
  const plan = planMigration(branched, [], target.heads)
  t.same(steps(plan), ['+root', '+left', '+right'])
  t.same(replay(branched, [], plan), ['left', 'right'])
  t.same(steps(planMigration(branched, ['left'], ['left', 'right'])), ['+right'])
  t.same(headsAfterStep(branched, ['root'], { revision: 'left', direction: 'up' }), ['left'], 'up replaces its parent')
  t.same(headsAfterStep(branched, ['left'], { revision: 'right', direction: 'up' }), ['left', 'right'], 'a second branch adds a head')
  t.same(headsAfterStep(branched, ['left', 'right'], { revision: 'left', direction: 'down' }), ['right'], 'the fork stays covered by the other branch')
  t.same(headsAfterStep(branched, ['left'], { revision: 'left', direction: 'down' }), ['root'], 'the fork comes back as a head')

  const downOne = planMigration(branched, ['left', 'right'], ['right'])
  t.same(steps(downOne), ['-left'], 'the other branch is untouched')
  t.same(replay(branched, ['left', 'right'], downOne), ['right'])
  const sideways = planMigration(branched, ['left'], ['right'])
  t.same(steps(sideways), ['-left', '+right'], 'downs first, then ups')
  t.same(replay(branched, ['left'], sideways), ['right'])
  t.same(steps(planMigration(branched, ['left', 'right'], [])), ['-right', '-left', '-root'], 'children before parents, latest first')
})

t.test('through a merge', async (t) => {
  const up = planMigration(merged, [], ['after'])
  t.same(steps(up), ['+root', '+left', '+right', '+merge', '+after'], 'both parents before the merge')
  t.same(replay(merged, [], up), ['after'])
  t.same(headsAfterStep(merged, ['left', 'right'], { revision: 'merge', direction: 'up' }), ['merge'], 'a merge replaces both its parents')
  t.same(headsAfterStep(merged, ['merge'], { revision: 'merge', direction: 'down' }), ['left', 'right'], 'and gives both back')

  const down = planMigration(merged, ['after'], ['left'])
  t.same(steps(down), ['-after', '-merge', '-right'], 'the merge goes before its parents')
  t.same(replay(merged, ['after'], down), ['left'])
  const toFork = resolveTarget(merged, ['after'], 'root', 'down')
  t.same(steps(planMigration(merged, ['after'], toFork.heads)), ['-after', '-merge', '-right', '-left'])
  t.same(replay(merged, ['after'], planMigration(merged, ['after'], toFork.heads)), ['root'])
  const belowMerge = resolveTarget(merged, ['after'], 'left', 'down')
  t.same(belowMerge.heads, ['left', 'right'])
  t.same(steps(planMigration(merged, ['after'], belowMerge.heads)), ['-after', '-merge'])
})

t.test('every plan between every pair of states replays exactly, one valid step at a time', async (t) => {
  const forked = RevisionGraph.build([
    rev('base0'), rev('aaaa', ['base0']), rev('b1', ['aaaa']), rev('b2', ['aaaa']),
    rev('mmmm', ['b1', 'b2']), rev('top', ['mmmm']), rev('cccc', ['aaaa']), rev('other'),
  ])
  const problems: string[] = []
  let pairs = 0
  for (const graph of [linear, branched, merged, forked]) {
    const states = everyState(graph)
    for (const from of states) {
      for (const to of states) {
        pairs++
        const plan = planMigration(graph, from, to)
        let heads = from
        for (const step of plan) {
          const applied = graph.closure(heads)
          const revision = graph.get(step.revision)
          // An up needs its parents applied; a down needs its children gone.
          const valid = step.direction === 'up'
            ? !applied.has(step.revision) && revision.downRevisions.every((parent) => applied.has(parent))
            : heads.includes(step.revision)
          if (!valid) problems.push(`${from} → ${to}: ${step.direction} ${step.revision} from ${heads}`)
          // A copy is not an array the planner returned: it takes the whole walk, the chained one its shortcut.
          const walked = headsAfterStep(graph, [...heads], step)
          heads = headsAfterStep(graph, heads, step)
          if (heads.join() !== walked.join()) problems.push(`${from} → ${to}: ${step.direction} ${step.revision} gave ${heads}, the whole walk ${walked}`)
        }
        if (heads.join() !== to.join()) problems.push(`${from} → ${to} ended at ${heads}`)
        const touched = new Set(plan.map((step) => step.revision))
        if (touched.size !== plan.length) problems.push(`${from} → ${to} touches a revision twice`)
      }
    }
  }
  t.same(problems, [])
  t.equal(pairs, 5 ** 2 + 5 ** 2 + 7 ** 2 + 28 ** 2, 'every ancestor-closed state of each graph')
})

t.test('a step that is not the plan\'s, after one that was, still answers as the whole walk does', async (t) => {
  const afterRoot = headsAfterStep(merged, [], { revision: 'root', direction: 'up' })
  t.same(headsAfterStep(merged, afterRoot, { revision: 'merge', direction: 'up' }), ['root', 'merge'], 'an up whose parents are not applied')
  const afterLeft = headsAfterStep(merged, ['root'], { revision: 'left', direction: 'up' })
  t.same(headsAfterStep(merged, afterLeft, { revision: 'root', direction: 'down' }), ['left'], 'a down of what is not a head')
  const reused = headsAfterStep(linear, [], { revision: r1, direction: 'up' })
  t.same(headsAfterStep(linear, reused, { revision: r2, direction: 'up' }), [r2])
  t.same(headsAfterStep(linear, reused, { revision: r2, direction: 'up' }), [r2], 'the same heads given twice')
})

t.test('forward moves', async (t) => {
  t.equal(isForward(linear, [r1], [r3]), true)
  t.equal(isForward(linear, [], [r1]), true)
  t.equal(isForward(linear, [r2], [r2]), true, 'standing still only adds nothing')
  t.equal(isForward(linear, [], []), true)
  t.equal(isForward(linear, [r3], [r1]), false)
  t.equal(isForward(linear, [r1], []), false)
  t.equal(isForward(branched, ['left'], ['left', 'right']), true)
  t.equal(isForward(merged, ['left'], ['right']), false, 'sideways is not forward')
  t.equal(isForward(merged, ['left', 'right'], ['merge']), true)
})
