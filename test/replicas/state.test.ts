import t from 'tap'
import type { StateView } from '../../src/migrator/index.js'
import { readinessOf } from '../../src/replicas/state.js'

/** A view of a database at this code's one head `h`, with `changes` on top. */
function view (changes: { status?: Partial<StateView['status']>, analysis?: Partial<StateView['analysis']>, serviceable?: boolean } = {}): StateView {
  return {
    status: { current: ['h'], heads: ['h'], upToDate: true, pending: [], ahead: [], breaking: [], interrupted: null, ...changes.status },
    analysis: { applied: new Set(['h']), knownHeads: ['h'], ahead: [], breaking: [], unknown: [], mismatched: [], pending: [], ...changes.analysis },
    serviceable: changes.serviceable ?? true,
  }
}

t.test('at the heads: ready, with no reason', async (t) => {
  t.same(readinessOf(view()), { state: 'ready', reason: null })
})

t.test('a database it cannot read: unready, saying so', async (t) => {
  t.same(readinessOf(null), { state: 'unready', reason: 'the database cannot be read' })
})

t.test('ahead with nothing breaking: compatible-ahead, naming the revisions', async (t) => {
  const readiness = readinessOf(view({ status: { current: ['n1'], upToDate: false, ahead: ['n1'] } }))
  t.equal(readiness.state, 'compatible-ahead')
  t.match(readiness.reason, /none breaking: n1$/)
})

t.test('a breaking revision ahead: unready, naming it, before anything pending is mentioned', async (t) => {
  const readiness = readinessOf(view({ status: { current: ['b1'], upToDate: false, ahead: ['b1'], breaking: ['b1'], pending: ['p1'] }, serviceable: false }))
  t.equal(readiness.state, 'unready')
  t.match(readiness.reason, /breaking revisions this release lacks: b1$/)
})

t.test('revisions pending: unready, counting and naming them', async (t) => {
  const readiness = readinessOf(view({ status: { current: [], upToDate: false, pending: ['p1', 'p2'] }, serviceable: false }))
  t.same(readiness, { state: 'unready', reason: '2 revision(s) of this release not applied: p1, p2' })
})

t.test('revisions nothing recorded, or whose SQL changed: unready, naming them first', async (t) => {
  t.same(readinessOf(view({ analysis: { unknown: ['x9'], mismatched: ['h'] }, serviceable: false })),
    { state: 'unready', reason: 'the database is at revisions no release recorded: x9' })
  t.same(readinessOf(view({ analysis: { mismatched: ['h'] }, serviceable: false })),
    { state: 'unready', reason: 'applied revisions changed since: h' })
})

t.test('not serviceable for another reason: unready, saying where the database is', async (t) => {
  t.same(readinessOf(view({ status: { current: [], upToDate: false }, serviceable: false })),
    { state: 'unready', reason: "the database is at base, not at this release's heads h" })
})
