import t from 'tap'
import { SchemaStateCache } from '../../src/schema-state/state-cache.js'
import type { DatabaseState } from '../../src/migrator/index.js'

function stateAt (...heads: string[]): DatabaseState {
  return { heads, applied: new Map(), interrupted: null }
}

/** A read the test finishes by hand, to hold reads in flight. */
function manualReads () {
  const pending: Array<{ resolve: (state: DatabaseState) => void, reject: (error: Error) => void }> = []
  const read = () => new Promise<DatabaseState>((resolve, reject) => { pending.push({ resolve, reject }) })
  return { read, pending }
}

t.test('refreshes asked for during a read share one more read, never one each', async (t) => {
  const { read, pending } = manualReads()
  const cache = new SchemaStateCache({ read })
  const first = cache.refresh()
  const queued = Array.from({ length: 5 }, () => cache.refresh())
  t.equal(cache.reads, 1, 'one read under way')
  pending[0]?.resolve(stateAt('a'))
  t.same((await first).heads, ['a'])
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(cache.reads, 2, 'the five refreshes queued one read behind it')
  pending[1]?.resolve(stateAt('b'))
  t.same((await Promise.all(queued)).map((state) => state.heads), Array(5).fill(['b']), 'and all see what it read')
  t.same(cache.current, { reachable: true, state: stateAt('b') })
})

t.test('a failed read marks the database unreachable and keeps the last state; state() then reads, shared', async (t) => {
  const { read, pending } = manualReads()
  const failures: unknown[] = []
  const cache = new SchemaStateCache({ read, onReadFailed: (error) => failures.push(error) })
  t.same(cache.current, { reachable: false, state: null }, 'nothing known before the first read')
  const first = cache.refresh()
  pending[0]?.resolve(stateAt('a'))
  await first
  t.same((await cache.state()).heads, ['a'], 'a reachable cache answers without a read')
  t.equal(cache.reads, 1)

  const failing = cache.refresh()
  pending[1]?.reject(new Error('connection refused'))
  await t.rejects(failing, /connection refused/)
  t.equal(failures.length, 1, 'the failure is reported')
  t.same(cache.current, { reachable: false, state: stateAt('a') }, 'unreachable, last state kept')

  const callers = [cache.state(), cache.state(), cache.state()]
  t.equal(cache.reads, 3, 'callers of state() while unreachable share one read')
  pending[2]?.resolve(stateAt('b'))
  t.same((await Promise.all(callers)).map((state) => state.heads), [['b'], ['b'], ['b']])
  t.equal(cache.current.reachable, true, 'reachable again')

  cache.markUnreachable()
  t.same(cache.current, { reachable: false, state: stateAt('b') }, 'told the database went away')
})

t.test('changes notified faster than reads are read at a bounded rate, and the last one always', async (t) => {
  let version = 0
  const seen: number[] = []
  const read = async () => {
    const at = version
    seen.push(at)
    await new Promise((resolve) => setTimeout(resolve, 20))
    return stateAt(`v${at}`)
  }
  const cache = new SchemaStateCache({ read, idleFactor: 5 })
  t.teardown(() => cache.stop())
  cache.changed()
  await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(cache.reads, 1, 'the first change is read at once')
  // A migration's steps: a change every 2 ms for 200 ms.
  for (let step = 1; step <= 100; step++) {
    version = step
    cache.changed()
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  const during = cache.reads
  t.ok(during <= 10, `${during} reads for 100 changes: each leaves the connection idle 5 times its own length`)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(cache.current.state?.heads, ['v100'], 'the last change is read')
  // The read of the last change may start before the burst's last tick ends, on a busy machine.
  t.equal(seen.filter((at) => at === 100).length, 1, 'once')
})

t.test('onNewHeads: told of the first read\'s heads, then when a read finds others, never of the same heads again', async (t) => {
  let next = stateAt('a')
  const cache = new SchemaStateCache({ read: async () => next })
  const told: string[][] = []
  cache.onNewHeads((heads) => told.push([...heads]))
  await cache.refresh()
  await cache.refresh()
  t.same(told, [['a']], 'the first read; an unchanged one says nothing')
  next = stateAt('b', 'c')
  await cache.refresh()
  t.same(told, [['a'], ['b', 'c']])
})
