import t from 'tap'
import { canaryCount, nextStep, type SchedulerRollout, type SchedulerTarget, type TargetStatus } from '../../../src/fleet/rollouts/scheduler.js'

const rollout = (over: Partial<SchedulerRollout> = {}): SchedulerRollout => ({ status: 'running', maxParallel: 2, maxFailures: 0, onError: 'stop', ...over })
const targets = (statuses: TargetStatus[], canaries = 1): SchedulerTarget[] =>
  statuses.map((status, index) => ({ name: `t${index}`, status, canary: index < canaries }))

t.test('the canary runs alone first', async (t) => {
  t.same(nextStep(rollout({ status: 'queued' }), targets(['pending', 'pending', 'pending'])), { start: ['t0'], status: 'running' })
  t.same(nextStep(rollout(), targets(['running', 'pending', 'pending'])), { start: [], status: 'running' })
})

t.test('a failed canary touches no other target, whatever onError says', async (t) => {
  for (const onError of ['stop', 'continue'] as const) {
    t.same(nextStep(rollout({ onError, maxFailures: 5 }), targets(['failed', 'pending', 'pending'])), { start: [], status: 'failed' })
    t.same(nextStep(rollout({ onError }), targets(['unreachable', 'pending'])), { start: [], status: 'failed' })
  }
  t.same(nextStep(rollout({ maxParallel: 3 }), targets(['failed', 'running', 'pending'], 2)), { start: [], status: 'running' }, 'a second canary still running finishes first')
})

t.test('after the canary, waves of at most maxParallel', async (t) => {
  t.same(nextStep(rollout(), targets(['succeeded', 'pending', 'pending', 'pending'])), { start: ['t1', 't2'], status: 'running' })
  t.same(nextStep(rollout(), targets(['succeeded', 'running', 'pending', 'pending'])), { start: ['t2'], status: 'running' })
  t.same(nextStep(rollout(), targets(['succeeded', 'running', 'running', 'pending'])), { start: [], status: 'running' })
  t.same(nextStep(rollout(), targets(['succeeded', 'succeeded', 'skipped'])), { start: [], status: 'succeeded' })
})

t.test('no canary: the first wave starts at once', async (t) => {
  t.same(nextStep(rollout({ maxParallel: 3 }), targets(['pending', 'pending', 'pending', 'pending'], 0)), { start: ['t0', 't1', 't2'], status: 'running' })
})

t.test('stop: no new target once more than maxFailures failed; running ones finish', async (t) => {
  t.same(nextStep(rollout(), targets(['succeeded', 'failed', 'running', 'pending'])), { start: [], status: 'running' })
  t.same(nextStep(rollout(), targets(['succeeded', 'failed', 'succeeded', 'pending'])), { start: [], status: 'failed' })
  t.same(nextStep(rollout({ maxFailures: 1 }), targets(['succeeded', 'failed', 'succeeded', 'pending'])), { start: ['t3'], status: 'running' }, 'one failure is within maxFailures 1')
})

t.test('a plan-stale target fails alone: it neither stops the rollout nor counts toward maxFailures, even as the canary', async (t) => {
  const stale = { type: 'plan-stale' }
  const withProblems = (list: SchedulerTarget[], problems: Record<string, object>) => list.map((target) => ({ ...target, problem: problems[target.name] ?? null }))
  t.same(nextStep(rollout(), withProblems(targets(['failed', 'pending', 'pending']), { t0: stale })), { start: ['t1', 't2'], status: 'running' }, 'a stale canary')
  t.same(nextStep(rollout(), withProblems(targets(['succeeded', 'failed', 'pending'], 1), { t1: stale })), { start: ['t2'], status: 'running' })
  t.same(nextStep(rollout(), withProblems(targets(['succeeded', 'failed', 'succeeded']), { t1: stale })), { start: [], status: 'failed' }, 'the rollout still ends failed')
  t.same(nextStep(rollout(), withProblems(targets(['succeeded', 'failed', 'pending']), { t1: { type: 'migration-failed' } })), { start: [], status: 'failed' }, 'another failure stops it')
})

t.test('continue: every target runs, and the rollout failed if any did', async (t) => {
  t.same(nextStep(rollout({ onError: 'continue' }), targets(['succeeded', 'failed', 'failed', 'pending'])), { start: ['t3'], status: 'running' })
  t.same(nextStep(rollout({ onError: 'continue' }), targets(['succeeded', 'failed', 'succeeded'])), { start: [], status: 'failed' })
})

t.test('paused starts nothing; finished rollouts stay as they are', async (t) => {
  t.same(nextStep(rollout({ status: 'paused' }), targets(['succeeded', 'pending'])), { start: [], status: 'paused' })
  t.same(nextStep(rollout({ status: 'cancelled' }), targets(['succeeded', 'cancelled'])), { start: [], status: 'cancelled' })
  t.same(nextStep(rollout({ status: 'failed' }), targets(['failed', 'pending'])), { start: [], status: 'failed' })
})

t.test('canary as a count or a percentage of the targets', async (t) => {
  t.equal(canaryCount(0, 10), 0)
  t.equal(canaryCount(3, 2), 2)
  t.equal(canaryCount('10%', 50), 5)
  t.equal(canaryCount('10%', 3), 1, 'rounds up')
  t.equal(canaryCount('100%', 7), 7)
  t.equal(canaryCount('0%', 7), 0)
})
