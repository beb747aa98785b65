import t from 'tap'
import { RevisionGraph, UnknownRevisionError } from '../../src/migrator/index.js'
import type { Cleared, MigrateAsked } from '../../src/review/service.js'
import { clearedMigration } from '../../src/verbs/clearance.js'
import { headsView, revisionView } from '../../src/verbs/views.js'
import { rev, thrown } from '../helpers/revisions.js'

// base0 ─┬─ left
//        └─ right
const graph = RevisionGraph.build([
  rev('base0', [], { description: 'the base', up: ['CREATE TABLE a (id int)'], down: ['DROP TABLE a'] }),
  rev('left', ['base0'], { description: 'one branch', transactional: false }),
  rev('right', ['base0'], { description: 'another', breaking: true }),
])

t.test('the heads, each with its description', async (t) => {
  t.same(headsView(graph), { heads: [{ revision: 'left', description: 'one branch' }, { revision: 'right', description: 'another' }] })
})

t.test('a revision by id or prefix, with whether it is a head and its SQL; an unknown one is the graph\'s error', async (t) => {
  t.match(revisionView(graph, 'base'), { revision: 'base0', downRevisions: [], description: 'the base', isHead: false, transactional: true, breaking: false, up: ['CREATE TABLE a (id int)'], down: ['DROP TABLE a'] })
  t.match(revisionView(graph, 'left'), { isHead: true, transactional: false })
  t.match(revisionView(graph, 'right'), { isHead: true, breaking: true })
  thrown(t, () => revisionView(graph, 'zzzz'), UnknownRevisionError)
})

t.test('through the gate: with a plan, its target and steps, and an actor that names it; without, as asked', async (t) => {
  const gate = (cleared: Cleared) => ({ clear: async (asked: MigrateAsked) => { t.match(asked, { direction: 'upgrade' }); return cleared } })
  const expected = { from: ['base0'], steps: [{ revision: 'left', direction: 'up' as const }] }
  t.same(await clearedMigration(gate({ target: 'left', planId: 'p-1', expected }), 'cli:ann', { direction: 'upgrade', dryRun: false, planId: 'p-1' }),
    { target: 'left', dryRun: false, actor: 'cli:ann (plan p-1)', expected })
  t.same(await clearedMigration(gate({ target: 'heads', planId: null }), 'migrate', { direction: 'upgrade', target: 'heads', dryRun: true }),
    { target: 'heads', dryRun: true, actor: 'migrate' })
})

t.test('a refusal at the gate is the review\'s error, passed on', async (t) => {
  const refused = new Error('approval required')
  await t.rejects(clearedMigration({ clear: async () => { throw refused } }, 'migrate', { direction: 'downgrade', target: 'base', dryRun: false }), refused)
})
