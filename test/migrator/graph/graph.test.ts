import t from 'tap'
import { AmbiguousRevisionError, InvalidRevisionGraphError, UnknownRevisionError } from '../../../src/migrator/errors.js'
import { RevisionGraph } from '../../../src/migrator/graph/graph.js'
import type { Revision } from '../../../src/migrator/revision.js'
import { rev, thrown } from '../../helpers/revisions.js'

const ids = (revisions: readonly Revision[]) => revisions.map((revision) => revision.revision)
const sorted = (set: Iterable<string>) => [...set].sort()

const problemsOf = (t: Parameters<typeof thrown>[0], revisions: Revision[]) =>
  thrown(t, () => RevisionGraph.build(revisions), InvalidRevisionGraphError).problems

const seed = () => RevisionGraph.build([
  rev('c3d4e5f6g7h8', ['b2c3d4e5f6g7']),
  rev('5c1b6116de51'),
  rev('b2c3d4e5f6g7', ['a1b2c3d4e5f6']),
  rev('a1b2c3d4e5f6', ['5c1b6116de51']),
])

// base0 ─ aaaa ─┬─ b1 ─┐
//               ├─ b2 ─┴─ mmmm ─ top
//               └─ cccc
const forked = () => RevisionGraph.build([
  rev('base0'), rev('aaaa', ['base0']), rev('b1', ['aaaa']), rev('b2', ['aaaa']),
  rev('mmmm', ['b1', 'b2']), rev('top', ['mmmm']), rev('cccc', ['aaaa']),
])

t.test('a linear chain', async (t) => {
  const graph = seed()
  t.same(ids(graph.all()), ['5c1b6116de51', 'a1b2c3d4e5f6', 'b2c3d4e5f6g7', 'c3d4e5f6g7h8'], 'ordered by links, not by input order')
  t.same(graph.heads, ['c3d4e5f6g7h8'])
  t.same(graph.bases, ['5c1b6116de51'])
  t.same(graph.children('a1b2c3d4e5f6'), ['b2c3d4e5f6g7'])
  t.same(graph.children('c3d4e5f6g7h8'), [])
  t.same(sorted(graph.ancestors('b2c3d4e5f6g7')), ['5c1b6116de51', 'a1b2c3d4e5f6'])
  t.same(sorted(graph.ancestors('5c1b6116de51')), [])
  t.same(sorted(graph.descendants('a1b2c3d4e5f6')), ['b2c3d4e5f6g7', 'c3d4e5f6g7h8'])
  t.same(sorted(graph.descendants('c3d4e5f6g7h8')), [])
  t.same(sorted(graph.closure(['b2c3d4e5f6g7'])), ['5c1b6116de51', 'a1b2c3d4e5f6', 'b2c3d4e5f6g7'])
  t.same(sorted(graph.closure([])), [])
  t.same(graph.headsOf(graph.closure(['b2c3d4e5f6g7'])), ['b2c3d4e5f6g7'])
  t.same(graph.headsOf([]), [])
  t.equal(graph.has('a1b2c3d4e5f6'), true)
  t.equal(graph.has('a1b2'), false, 'has takes exact ids only')
  t.equal(graph.get('a1b2c3d4e5f6').file, 'a1b2c3d4e5f6.ts')
  t.equal(graph.isBranchPoint('a1b2c3d4e5f6'), false)
  t.equal(graph.isMergePoint('c3d4e5f6g7h8'), false)
})

t.test('branches and merges', async (t) => {
  const graph = forked()
  t.same(ids(graph.all()), ['base0', 'aaaa', 'b1', 'b2', 'mmmm', 'top', 'cccc'], 'parents first, then by create date')
  t.same(graph.heads, ['top', 'cccc'], 'in topological order')
  t.same(graph.bases, ['base0'])
  t.equal(graph.isBranchPoint('aaaa'), true)
  t.equal(graph.isBranchPoint('b1'), false)
  t.equal(graph.isMergePoint('mmmm'), true)
  t.equal(graph.isMergePoint('b1'), false)
  t.same(graph.children('aaaa'), ['b1', 'b2', 'cccc'])
  t.same(sorted(graph.closure(['mmmm'])), ['aaaa', 'b1', 'b2', 'base0', 'mmmm'])
  t.same(sorted(graph.ancestors('top')), ['aaaa', 'b1', 'b2', 'base0', 'mmmm'])
  t.same(sorted(graph.descendants('b1')), ['mmmm', 'top'])
  t.same(sorted(graph.descendants('aaaa')), ['b1', 'b2', 'cccc', 'mmmm', 'top'])
  t.same(graph.headsOf(graph.closure(['b1', 'cccc'])), ['b1', 'cccc'])
  t.same(graph.headsOf(graph.closure(['b1', 'b2'])), ['b1', 'b2'])
  t.same(graph.headsOf(graph.closure(['top', 'b1'])), ['top'], 'an ancestor of another head is no head')
  t.same(graph.headsOf(['aaaa', 'base0', 'cccc', 'b2']), ['b2', 'cccc'], 'in topological order, whatever the input order')
})

t.test('several bases', async (t) => {
  const graph = RevisionGraph.build([rev('one'), rev('two'), rev('joined', ['one', 'two'])])
  t.same(graph.bases, ['one', 'two'])
  t.same(graph.heads, ['joined'])
  t.same(sorted(graph.closure(['joined'])), ['joined', 'one', 'two'])
})

t.test('the order is deterministic: create date, then id', async (t) => {
  const revisions = [
    rev('zeta', [], { createDate: '2025-01-01T00:00:00.000Z' }),
    rev('alpha', [], { createDate: '2025-01-02T00:00:00.000Z' }),
    rev('beta', [], { createDate: '2025-01-02T00:00:00.000Z' }),
    rev('early', [], { createDate: '2025-01-01T01:00:00.000+02:00' }),
    rev('odd', [], { createDate: 'not a date' }),
    rev('child', ['beta'], { createDate: '2020-01-01T00:00:00.000Z' }),
  ]
  const expected = ['early', 'zeta', 'alpha', 'beta', 'child', 'odd']
  t.same(ids(RevisionGraph.build(revisions).all()), expected, 'instants, not text; unparsable dates last; a child never before its parent')
  t.same(ids(RevisionGraph.build([...revisions].reverse()).all()), expected, 'whatever order the files were read in')
  t.same(RevisionGraph.build(revisions).heads, ['early', 'zeta', 'alpha', 'child', 'odd'])
  t.same(ids(RevisionGraph.build([rev('b', [], { createDate: 'x' }), rev('B', [], { createDate: 'x' }), rev('a', [], { createDate: 'x' })]).all()),
    ['B', 'a', 'b'], 'ids in code-unit order, the same in every locale')
  t.same(ids(RevisionGraph.build([rev('b', [], { createDate: 'y' }), rev('a', [], { createDate: 'x' })]).all()), ['a', 'b'], 'unparsable dates by text')
})

t.test('an empty graph', async (t) => {
  const graph = RevisionGraph.build([])
  t.same(graph.all(), [])
  t.same(graph.heads, [])
  t.same(graph.bases, [])
  t.throws(() => graph.resolveRevision('a'), UnknownRevisionError)
})

t.test('invalid graphs name every problem and its file', async (t) => {
  t.same(problemsOf(t, [rev('aaaa', [], { file: 'one.ts' }), rev('aaaa', [], { file: 'two.ts' })]),
    ['duplicate revision aaaa in one.ts and two.ts'])
  t.same(problemsOf(t, [rev('aaaa', ['gone'])]),
    ['aaaa (aaaa.ts) revises gone, which does not exist'], 'a dangling parent is no cycle')
  t.same(problemsOf(t, [rev('base0'), rev('xxxx', ['yyyy']), rev('yyyy', ['xxxx']), rev('below', ['xxxx'])]),
    ['cycle through xxxx (xxxx.ts), yyyy (yyyy.ts)'], 'what merely descends from a cycle is not on it')
  t.same(problemsOf(t, [rev('self', ['self'])]), ['cycle through self (self.ts)'])
  t.same(problemsOf(t, [rev('c1', ['c2', 'gone']), rev('c2', ['c1'])]),
    ['c1 (c1.ts) revises gone, which does not exist', 'cycle through c1 (c1.ts), c2 (c2.ts)'], 'a cycle with a dangling parent is both')
  t.same(problemsOf(t, [rev('p1'), rev('p2'), rev('twice', ['p1', 'p1'])]), ['twice (twice.ts) lists down revision p1 twice'])
  t.same(problemsOf(t, [rev('', [], { file: 'empty.ts' }), rev('head'), rev('a-1'), rev('x'.repeat(65), [], { file: 'long.ts' })]), [
    "empty.ts has revision id '': ids are 1 to 64 letters, digits or underscores, and not head, heads or base",
    "head.ts has revision id 'head': ids are 1 to 64 letters, digits or underscores, and not head, heads or base",
    "a-1.ts has revision id 'a-1': ids are 1 to 64 letters, digits or underscores, and not head, heads or base",
    `long.ts has revision id '${'x'.repeat(65)}': ids are 1 to 64 letters, digits or underscores, and not head, heads or base`,
  ])
})

t.test('several problems at once, all named', async (t) => {
  const error = thrown(t, () => RevisionGraph.build([
    rev('aaaa', [], { file: 'first.ts' }),
    rev('aaaa', [], { file: 'again.ts' }),
    rev('bbbb', ['none']),
    rev('c1', ['c2']),
    rev('c2', ['c1']),
    rev('d1', ['d3']),
    rev('d2', ['d1']),
    rev('d3', ['d2']),
  ]), InvalidRevisionGraphError)
  t.same(error.problems, [
    'duplicate revision aaaa in first.ts and again.ts',
    'bbbb (bbbb.ts) revises none, which does not exist',
    'cycle through c1 (c1.ts), c2 (c2.ts)',
    'cycle through d1 (d1.ts), d2 (d2.ts), d3 (d3.ts)',
  ])
  t.equal(error.kind, 'invalid-revision-graph')
  t.match(error.message, /^invalid revision graph: duplicate revision aaaa in first\.ts and again\.ts; bbbb/)
})

t.test('resolving ids and prefixes', async (t) => {
  const graph = seed()
  t.equal(graph.resolveRevision('a1b'), 'a1b2c3d4e5f6')
  t.equal(graph.resolveRevision('5c1b6116de51'), '5c1b6116de51')
  const shared = RevisionGraph.build([rev('abc123'), rev('abd456', ['abc123']), rev('abc', ['abd456'])])
  t.equal(shared.resolveRevision('abd'), 'abd456')
  t.equal(shared.resolveRevision('abc'), 'abc', 'an exact id wins over a prefix of others')
  const ambiguous = thrown(t, () => shared.resolveRevision('ab'), AmbiguousRevisionError)
  t.equal(ambiguous.prefix, 'ab')
  t.same(ambiguous.candidates, ['abc', 'abc123', 'abd456'], 'sorted')
  t.equal(thrown(t, () => shared.resolveRevision('zz'), UnknownRevisionError).revision, 'zz')
  t.throws(() => shared.resolveRevision(''), UnknownRevisionError, 'an empty prefix names nothing')
  t.throws(() => shared.resolveRevision('ABC'), UnknownRevisionError, 'case sensitive')
  t.throws(() => shared.get('zz'), UnknownRevisionError)
  t.throws(() => shared.get('ab'), UnknownRevisionError, 'get takes exact ids only')
  t.throws(() => shared.children('zz'), UnknownRevisionError)
  t.throws(() => shared.closure(['zz']), UnknownRevisionError)
})

t.test('the order is always the earliest ready revision, as a scan of every remaining one finds it', async (t) => {
  const earliestReady = (revisions: readonly Revision[]): string[] => {
    const byTime = [...revisions].sort((a, b) => Date.parse(a.createDate) - Date.parse(b.createDate) || (a.revision < b.revision ? -1 : 1))
    const placed = new Set<string>()
    const order: string[] = []
    while (byTime.length > 0) {
      const index = byTime.findIndex((revision) => revision.downRevisions.every((parent) => placed.has(parent)))
      const [next] = byTime.splice(index, 1) as [Revision]
      placed.add(next.revision)
      order.push(next.revision)
    }
    return order
  }
  // Random DAGs whose create dates disagree with their links, with ties on the date.
  let seed = 16
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % below
  }
  for (let graph = 0; graph < 20; graph++) {
    const revisions = Array.from({ length: 60 }, (_, index) => {
      const parents = [...new Set(Array.from({ length: random(3) }, () => random(Math.max(index, 1))))].filter((parent) => parent < index)
      return rev(`g${graph}_${index}`, parents.map((parent) => `g${graph}_${parent}`), { createDate: new Date(Date.UTC(2025, 0, 1, 0, random(20))).toISOString() })
    })
    t.same(ids(RevisionGraph.build(revisions).all()), earliestReady(revisions), `graph ${graph}`)
  }
})
