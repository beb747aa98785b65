import t from 'tap'
import { defaultLockRetryPolicy, isLockTimeout, lockRetryDelayMs } from '../../../src/migrator/run/lock-retry.js'

t.test('the delay doubles from the base, is capped, and is jittered within its upper half', async (t) => {
  const policy = { retries: 5, baseMs: 500, capMs: 10_000 }
  t.same([1, 2, 3, 4, 5, 6, 7].map((retry) => lockRetryDelayMs(policy, retry, () => 1)), [500, 1000, 2000, 4000, 8000, 10_000, 10_000])
  t.same([1, 2, 3, 6].map((retry) => lockRetryDelayMs(policy, retry, () => 0)), [250, 500, 1000, 5000])
  for (let i = 0; i < 100; i++) {
    const delay = lockRetryDelayMs(policy, 3)
    t.ok(delay >= 1000 && delay <= 2000, `${delay} within [1000, 2000]`)
  }
})

t.test('defaults: 5 retries from 500 ms, capped at 10 s', async (t) => {
  t.same(defaultLockRetryPolicy, { retries: 5, baseMs: 500, capMs: 10_000 })
})

t.test('only lock_timeout (55P03) is retried', async (t) => {
  t.ok(isLockTimeout({ code: '55P03' }))
  t.notOk(isLockTimeout({ code: '57014' }))
  t.notOk(isLockTimeout(new Error('no code')))
})
