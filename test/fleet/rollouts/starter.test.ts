import t from 'tap'
import { backgroundStarter } from '../../../src/fleet/rollouts/starter.js'

t.test('stop waits for the attempt under way, so what it started can be stopped', async (t) => {
  let finish = (): void => undefined
  let attempts = 0
  const starter = backgroundStarter(async () => {
    attempts++
    await new Promise<void>((resolve) => { finish = resolve })
  }, { retryMs: 10, onFailed: () => undefined })
  const starting = starter.ready()
  let stopped = false
  const stopping = starter.stop().then(() => { stopped = true })
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.notOk(stopped, 'not stopped while the attempt runs')
  finish()
  await starting
  await stopping
  t.ok(stopped)
  t.equal(attempts, 1)
})

t.test('after stop, no attempt starts: neither a retry nor a caller of ready', async (t) => {
  let attempts = 0
  const failures: unknown[] = []
  const starter = backgroundStarter(async () => {
    attempts++
    throw new Error('the database does not answer')
  }, { retryMs: 10, onFailed: (error) => failures.push(error) })
  await t.rejects(starter.ready(), /does not answer/)
  await starter.stop()
  await new Promise((resolve) => setTimeout(resolve, 50))
  await t.rejects(starter.ready(), /stopped/)
  t.equal(attempts, 1, 'the retry timer was cleared')
  t.equal(failures.length, 1)
})

t.test('a failed attempt is tried again in the background', async (t) => {
  let attempts = 0
  const starter = backgroundStarter(async () => {
    attempts++
    if (attempts === 1) throw new Error('not yet')
  }, { retryMs: 10, onFailed: () => undefined })
  await t.rejects(starter.ready())
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(attempts, 2)
  await starter.ready()
  t.equal(attempts, 2, 'started: ready does not start again')
  await starter.stop()
})
