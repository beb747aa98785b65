import t from 'tap'
import pg from 'pg'
import { ApprovalRequiredError } from '../../../src/review/errors.js'
import { createReviewService } from '../../../src/review/service.js'
import { defaultReviewSettings } from '../../../src/review/types.js'
import { NoTargetsError, NotPromotedError, RolloutNotFoundError, RolloutTargetNotFoundError, RolloutTransitionError } from '../../../src/fleet/rollouts/errors.js'
import type { RolloutRequest } from '../../../src/fleet/rollouts/service.js'
import { loadRevisions, RevisionGraph } from '../../../src/migrator/index.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { rolloutHarness, settled, type SchemaTarget } from '../../helpers/rollouts.js'
import { lineRevision, revisionsDir } from '../../helpers/synthetic-revisions.js'

const url = await createTestDatabase(t, 'rollouts')
const knex = testKnex(t, url)
const graph = RevisionGraph.build(await loadRevisions(await revisionsDir(t, [
  lineRevision(1, ['CREATE TABLE t_1 (id int)'], ['DROP TABLE t_1']),
  lineRevision(2, ['ALTER TABLE t_1 ADD COLUMN c int'], ['ALTER TABLE t_1 DROP COLUMN c']),
  lineRevision(3, ['CREATE TABLE t_3 (id int)'], ['DROP TABLE t_3']),
])))
const [head] = graph.heads
const first = graph.all().find((revision) => revision.downRevisions.length === 0)?.revision as string

let made = 0
/** Targets in schemas of their own; `unreachable` ones point at a port nothing listens on. */
async function targets (environment: string, names: string[], unreachable: string[] = []): Promise<SchemaTarget[]> {
  made += 1
  return Promise.all(names.map(async (name) => {
    const schema = `s${made}_${name.replace(/\W/g, '_')}`
    await knex.raw('CREATE SCHEMA ??', [schema])
    const dead = new URL(url)
    dead.port = '1'
    return { name, environment, labels: { group: String(made) }, schema, url: unreachable.includes(name) ? dead.toString() : url }
  }))
}

const tableCount = async (schema: string) => Number((await knex.raw<{ rows: Array<{ n: string }> }>('SELECT count(*) AS n FROM pg_tables WHERE schemaname = ?', [schema])).rows[0]?.n)
const heads = async (schema: string) => (await knex.withSchema(schema).select('version_num').from('alembic_version')).map((row: { version_num: string }) => row.version_num)

const ask = (fields: Partial<RolloutRequest>): RolloutRequest => ({ verb: 'upgrade', target: 'head', maxParallel: 4, canary: 1, maxFailures: 0, onError: 'stop', ...fields })
const admin = { actor: 'admin', admin: true }
const migrate = { actor: 'migrate', admin: false }

const all = [
  ...await targets('production', ['bad', 'a', 'b']),
  ...await targets('production', ['ok0', 'bad1', 'ok2', 'ok3']),
  ...await targets('production', ['c0', 'bad-c', 'c2', 'c3']),
]
// One harness for the file, as one service per database: every queue worker of this database must know every target.
const environments = ['development', 'production']
const lock = { lockTimeoutMs: 200, retries: 2, baseMs: 50 }
const { service, lines, source } = await rolloutHarness(t, { knex, databaseUrl: url, graph, environments, targets: all, lock })

t.test('a canary that fails touches no other target, even with onError continue', async (t) => {
  await knex.raw('CREATE TABLE s1_bad.t_1 (id int)')
  const created = await service.create(ask({ targets: ['bad', 'a', 'b'], onError: 'continue', maxFailures: 5 }), migrate)
  t.equal(created.counts.pending + created.counts.running, 3)
  const done = await settled(service, created.id)
  t.equal(done.status, 'failed')
  t.match(done.targets, [{ name: 'bad', status: 'failed', problem: { type: 'migration-failed' } }, { name: 'a', status: 'pending' }, { name: 'b', status: 'pending' }])
  t.equal(await tableCount('s1_a'), 0, 'target a untouched')
  t.equal(await tableCount('s1_b'), 0, 'target b untouched')
  t.ok(lines.some((line) => line.rollout === created.id && line.target === 'bad' && line.message === 'rollout target failed'), 'the log line names rollout and target')
})

t.test('stop: after a failure no new target starts; retry runs the failed ones again', async (t) => {
  await knex.raw('CREATE TABLE s2_bad1.t_1 (id int)')
  const created = await service.create(ask({ targets: ['ok0', 'bad1', 'ok2', 'ok3'], maxParallel: 1 }), migrate)
  const done = await settled(service, created.id)
  t.equal(done.status, 'failed')
  t.match(done.targets.map((target) => [target.name, target.status]), [['ok0', 'succeeded'], ['bad1', 'failed'], ['ok2', 'pending'], ['ok3', 'pending']])
  t.match(done.targets[0], { before: [], after: [head], steps: 3, operationId: String })
  await t.rejects(service.resume(created.id), RolloutTransitionError, 'a failed rollout does not resume')

  await knex.raw('DROP TABLE s2_bad1.t_1')
  const retried = await service.retry(created.id)
  t.equal(retried.counts.failed, 0, 'the failed target is pending again')
  const again = await settled(service, created.id)
  t.equal(again.status, 'succeeded')
  t.same(again.counts, { pending: 0, running: 0, succeeded: 4, failed: 0, skipped: 0, unreachable: 0, cancelled: 0 })
  for (const name of ['ok0', 'bad1', 'ok2', 'ok3']) t.same(await heads(`s2_${name}`), [head], `${name} at head`)
  await t.rejects(service.retry(created.id), RolloutTransitionError, 'a succeeded rollout has nothing to retry')
})

t.test('continue: every target runs, the rollout fails for the one that did', async (t) => {
  await knex.raw('CREATE TABLE "s3_bad_c".t_1 (id int)')
  const created = await service.create(ask({ targets: ['c0', 'bad-c', 'c2', 'c3'], maxParallel: 2, onError: 'continue' }), migrate)
  const done = await settled(service, created.id)
  t.equal(done.status, 'failed')
  t.match(done.targets.map((target) => [target.name, target.status]), [['c0', 'succeeded'], ['bad-c', 'failed'], ['c2', 'succeeded'], ['c3', 'succeeded']])
  t.ok(done.finishedAt !== null)
  t.ok(source.changedNames.includes('c3'), 'the fleet view was told')

  await t.rejects(service.skip(created.id, 'nobody'), RolloutTargetNotFoundError)
  await t.rejects(service.skip(created.id, 'c0'), RolloutTransitionError, 'a succeeded target is not skipped')
  const skipped = await service.skip(created.id, 'bad-c')
  t.match(skipped.targets[1], { name: 'bad-c', status: 'skipped' })
})

t.test('pause starts nothing new, resume goes on; cancel stops scheduling within a second', async (t) => {
  const many = await targets('production', ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'])
  all.push(...many)
  const created = await service.create(ask({ targets: many.map((target) => target.name), maxParallel: 1, canary: 0 }), migrate)
  await service.pause(created.id)
  const paused = await settled(service, created.id)
  t.equal(paused.status, 'paused')
  t.ok(paused.counts.pending >= 4, `${paused.counts.pending} targets wait`)
  await t.rejects(service.pause(created.id), RolloutTransitionError, 'a paused rollout does not pause again')
  await service.resume(created.id)
  t.equal((await settled(service, created.id)).status, 'succeeded')

  const more = await targets('production', ['q0', 'q1', 'q2', 'q3', 'q4', 'q5'])
  all.push(...more)
  const next = await service.create(ask({ targets: more.map((target) => target.name), maxParallel: 1, canary: 0 }), migrate)
  const cancelled = await service.cancel(next.id)
  t.equal(cancelled.status, 'cancelled')
  t.ok(cancelled.counts.cancelled >= 4)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const after = await service.get(next.id)
  t.equal(after.counts.succeeded + after.counts.running, cancelled.counts.succeeded + cancelled.counts.running, 'no target started after the cancel')
  await t.rejects(service.cancel(next.id), RolloutTransitionError)
})

t.test('an unreachable target is reported, never fatal to the rest', async (t) => {
  const some = await targets('production', ['u0', 'gone', 'u2'], ['gone'])
  all.push(...some)
  const done = await settled(service, (await service.create(ask({ targets: ['u0', 'gone', 'u2'], onError: 'continue' }), migrate)).id)
  t.match(done.targets.map((target) => [target.name, target.status]), [['u0', 'succeeded'], ['gone', 'unreachable'], ['u2', 'succeeded']])
  t.match(done.targets[1]?.problem, { type: 'database-unavailable' })
})

t.test('a locked table: the target retries, then its problem names the blocker; the others are not held up', async (t) => {
  const locked = await targets('production', ['l0', 'held', 'l2'])
  all.push(...locked)
  const atFirst = await settled(service, (await service.create(ask({ targets: ['l0', 'held', 'l2'], target: first }), migrate)).id)
  t.equal(atFirst.status, 'succeeded')
  const blocker = new pg.Client({ connectionString: url, application_name: 'the blocker' })
  await blocker.connect()
  t.teardown(() => blocker.end())
  await blocker.query('BEGIN')
  await blocker.query(`LOCK TABLE ${locked[1]?.schema}.t_1 IN ACCESS SHARE MODE`)
  const done = await settled(service, (await service.create(ask({ targets: ['l0', 'held', 'l2'], onError: 'continue' }), migrate)).id)
  await blocker.query('ROLLBACK')
  t.match(done.targets.map((target) => [target.name, target.status]), [['l0', 'succeeded'], ['held', 'failed'], ['l2', 'succeeded']])
  t.match(done.targets[1]?.problem, { type: 'migration-failed', tries: Number, blockers: [{ applicationName: 'the blocker' }] })
  t.ok(Number(done.targets[1]?.problem?.tries) > 1, 'it tried again')
})

t.test('the refusals: nothing selected, unknown rollouts, approval required', async (t) => {
  await t.rejects(service.create(ask({ environment: 'nowhere' }), migrate), NoTargetsError)
  await t.rejects(service.create(ask({ selector: { group: 'none' } }), migrate), NoTargetsError)
  await t.rejects(service.get('00000000-0000-4000-8000-000000000000'), RolloutNotFoundError)
  await t.rejects(service.pause('00000000-0000-4000-8000-000000000000'), RolloutNotFoundError)
  const page = await service.list(2, null)
  t.equal(page.rollouts.length, 2)
  t.ok(page.nextCursor !== null)
  const rest = await service.list(100, page.nextCursor)
  t.ok(Date.parse(page.rollouts[1]?.createdAt ?? '') >= Date.parse(rest.rollouts[0]?.createdAt ?? ''), 'newest first, across pages')

  const gated = await rolloutHarness(t, { knex, databaseUrl: url, graph, environments, targets: all, lock, review: { approvalRequired: true } })
  await t.rejects(gated.service.create(ask({ targets: ['a'] }), admin), ApprovalRequiredError)
})

t.test('promotion: refused while an earlier environment is behind; an admin may override, and the audit log keeps why', async (t) => {
  const dev = await targets('development', ['dev1'])
  const prod = await targets('production', ['prod1'])
  all.push(...dev, ...prod)
  const staged = { service, lines }
  await t.rejects(staged.service.create(ask({ environment: 'production', targets: ['prod1'] }), migrate), { name: 'NotPromotedError', environment: 'development', behind: ['dev1'] })
  await t.rejects(staged.service.create(ask({ environment: 'production', targets: ['prod1'], override: { reason: 'hotfix' } }), migrate), NotPromotedError, 'only an admin overrides')

  const overridden = await settled(staged.service, (await staged.service.create(ask({ environment: 'production', targets: ['prod1'], override: { reason: 'hotfix 42' } }), admin)).id)
  t.equal(overridden.status, 'succeeded')
  const audit = await knex.withSchema(prod[0]?.schema as string).select('actor').from('aip_schema_operations')
  t.ok(audit.some((row: { actor: string }) => row.actor.includes('promotion override: hotfix 42')), 'the audit log keeps the reason')
  t.ok(staged.lines.some((line) => line.message === 'promotion overridden' && line.reason === 'hotfix 42'))

  t.equal((await settled(staged.service, (await staged.service.create(ask({ environment: 'development' }), migrate)).id)).status, 'succeeded')
  const promoted = await settled(staged.service, (await staged.service.create(ask({ environment: 'production', targets: ['prod1'] }), migrate)).id)
  t.equal(promoted.status, 'succeeded', 'allowed once development is at head')
})

t.test('with an approved plan, a target whose pending steps are not the plan\'s fails plan-stale alone; the others go on', async (t) => {
  const planned = await targets('production', ['plan0', 'plan-moved', 'plan2'])
  all.push(...planned)
  // Development is at head, past `first`: promotion to `first` is an admin's override.
  const moved = await settled(service, (await service.create(ask({ targets: ['plan-moved'], target: first, canary: 0, override: { reason: 'arranging the test' } }), admin)).id)
  t.equal(moved.status, 'succeeded', 'one target moved past base since: two steps pending, the plan has three')
  // The plan is made against the service's own database, at base.
  const review = createReviewService(knex, graph, { ...defaultReviewSettings, approvalRequired: true })
  const plan = await review.plan({ target: 'head', direction: 'upgrade' }, { actor: 'migrate', token: null })
  await review.approve(plan.id, { actor: 'admin', token: null }, { fourEyes: false })

  const gated = await rolloutHarness(t, { knex, databaseUrl: url, graph, environments, targets: all, lock, review: { approvalRequired: true } })
  const done = await settled(gated.service, (await gated.service.create(ask({ targets: ['plan0', 'plan-moved', 'plan2'], planId: plan.id }), migrate)).id)
  t.equal(done.status, 'failed', 'the rollout ends failed')
  t.match(done.targets, [
    { name: 'plan0', status: 'succeeded' },
    { name: 'plan-moved', status: 'failed', problem: { type: 'plan-stale' } },
    { name: 'plan2', status: 'succeeded' },
  ], 'the stale target failed; the one after it still ran, onError stop notwithstanding')
  t.same(await heads(planned[1]?.schema as string), [first], 'the stale target did not move')
  t.same(await heads(planned[2]?.schema as string), [head])
})
