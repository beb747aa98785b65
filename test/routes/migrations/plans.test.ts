import { fileURLToPath } from 'node:url'
import t from 'tap'
import { PlanStaleError } from '../../../src/migrator/index.js'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'

/*
 * Revisions written for this test: model_runs, then a non-concurrent index and a narrowing type
 * change on it, then the same on a table the plan itself creates, then an acknowledged index.
 */
const migrationsDir = fileURLToPath(new URL('../../fixtures/review-revisions/', import.meta.url))
const [base, index, typeChange, newTable, acknowledged] = ['a0a0a0a0a0a0', 'b1b1b1b1b1b1', 'c2c2c2c2c2c2', 'd3d3d3d3d3d3', 'e4e4e4e4e4e4']
const secondAdmin = { authorization: 'Bearer second-admin-token' }

const url = await createTestDatabase(t, 'plans')
const db = testKnex(t, url)
const app = await buildTestApp(t, url, { migrationsDir, instance: 'replica-a', extraTokens: 'admin=second-admin-token' })
const gated = await buildTestApp(t, url, { migrationsDir, instance: 'replica-b', extraTokens: 'admin=second-admin-token', review: { approvalRequired: true } })

const arranged = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: base } })
if (arranged.statusCode !== 200) throw new Error(`could not arrange the database: ${arranged.body}`)
await db.raw("INSERT INTO model_runs (model_type) SELECT 'xgboost' FROM generate_series(1, 150000)")
// VACUUM reads every page, so reltuples is the exact count, not ANALYZE's sampled estimate.
await db.raw('VACUUM ANALYZE model_runs')
const modelRunsBytes = Number((await db.raw("SELECT pg_total_relation_size('model_runs') AS size")).rows[0].size)

async function plan (payload: object, headers: Record<string, string> = bearer('migrate'), on = app) {
  return on.inject({ method: 'POST', url: '/migrations/plan', headers, payload })
}

async function approve (id: string, payload: object, headers: Record<string, string> = secondAdmin) {
  return app.inject({ method: 'POST', url: `/migrations/plans/${id}/approve`, headers, payload })
}

/** What a finding says, without its prose. */
function facts (steps: Array<{ revision: string, findings: Array<Record<string, unknown>> }>) {
  return steps.map((step) => ({
    revision: step.revision,
    findings: step.findings.map(({ message: _message, ...rest }) => rest),
  }))
}

const big = { table: 'model_runs', estimatedRows: 150000, sizeBytes: modelRunsBytes }
const fresh = { table: 'run_notes', estimatedRows: 0 }

t.test('a plan sizes each finding by the live database and runs nothing', async (t) => {
  const operationsBefore = await db('aip_schema_operations').count({ n: '*' }).first()
  const res = await plan({})
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.equal(res.headers.location, `/migrations/plans/${body.id}`)
  t.match(body, { direction: 'upgrade', target: 'head', from: [base], to: [acknowledged], requestedBy: 'migrate', approval: null })
  t.same(body.steps.map((step: { revision: string, transactional: boolean }) => [step.revision, step.transactional]), [[index, true], [typeChange, true], [newTable, true], [acknowledged, true]])
  t.same(facts(body.steps), [
    { revision: index, findings: [{ rule: 'require-concurrent-index-creation', severity: 'error', statement: 0, ...big, lock: 'SHARE' }] },
    {
      revision: typeChange,
      findings: [
        { rule: 'changing-column-type', severity: 'error', statement: 0, ...big, lock: 'ACCESS EXCLUSIVE' },
        { rule: 'prefer-text-field', severity: 'warning', statement: 0, ...big, lock: 'ACCESS EXCLUSIVE' },
        { rule: 'narrowing-type-change', severity: 'warning', statement: 0, ...big, lock: 'ACCESS EXCLUSIVE' },
      ],
    },
    {
      revision: newTable,
      findings: [
        { rule: 'prefer-text-field', severity: 'warning', statement: 0 },
        { rule: 'changing-column-type', severity: 'info', statement: 2, ...fresh, lock: 'ACCESS EXCLUSIVE' },
        { rule: 'prefer-text-field', severity: 'warning', statement: 2, ...fresh, lock: 'ACCESS EXCLUSIVE' },
      ],
    },
    {
      revision: acknowledged,
      findings: [{ rule: 'require-concurrent-index-creation', severity: 'error', statement: 0, ...big, lock: 'SHARE', acknowledged: 'built in the Sunday maintenance window, writes paused' }],
    },
  ])
  t.same(body.summary, { errors: 2, warnings: 4, acknowledged: 1 }, 'the acknowledged error is not counted')
  t.match(body.steps[0].findings[0].message, /On model_runs \(~150,000 rows, \d+ MB\), the SHARE lock blocks every write while it runs/)
  t.match(body.steps[1].findings[2].message, /narrows from character varying\(100\) to varchar\(50\): the change fails if any of ~150,000 rows holds a value that does not fit/)
  t.match(body.steps[2].findings[1].message, /run_notes is created earlier in this plan/)
  t.same(body.lint.excludedRules.map((entry: { rule: string }) => entry.rule), ['require-lock-timeout', 'require-statement-timeout'], 'the rules the engine satisfies are named once')
  t.match(body.lint, { linter: /^squawk \d+\.\d+\.\d+$/, largeTableRows: 100000 })

  t.same(await db('alembic_version').pluck('version_num'), [base], 'nothing ran')
  t.same(await db('aip_schema_operations').count({ n: '*' }).first(), operationsBefore, 'no operation was recorded')
  const read = await app.inject({ url: `/migrations/plans/${body.id}`, headers: bearer('read') })
  t.equal(read.statusCode, 200)
  t.same(read.json(), body, 'read back as made')
})

t.test('below LINT_LARGE_TABLE_ROWS a blocking statement is only info', async (t) => {
  const lenient = await buildTestApp(t, url, { migrationsDir, review: { largeTableRows: 150001 } })
  const body = (await plan({ target: index }, bearer('migrate'), lenient)).json()
  t.same(facts(body.steps), [{ revision: index, findings: [{ rule: 'require-concurrent-index-creation', severity: 'info', statement: 0, ...big, lock: 'SHARE' }] }])
  t.same(body.summary, { errors: 0, warnings: 0, acknowledged: 0 })
})

t.test('a downgrade plan is an admin\'s, and names the rows a dropped table holds', async (t) => {
  t.equal((await plan({}, bearer('read'))).statusCode, 403)
  const forbidden = await plan({ target: 'base', direction: 'downgrade' })
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().requiredScope, 'admin')
  t.equal((await plan({ direction: 'downgrade' }, bearer('admin'))).json().field, 'body.target')
  const res = await plan({ target: 'base', direction: 'downgrade' }, bearer('admin'))
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, { direction: 'downgrade', from: [base], to: [] })
  t.same(facts(body.steps), [{ revision: base, findings: [{ rule: 'ban-drop-table', severity: 'warning', statement: 0, ...big, lock: 'ACCESS EXCLUSIVE' }] }])
  t.match(body.steps[0].findings[0].message, /Drops model_runs and its ~150,000 rows\./)
  t.equal((await plan({ target: 'zzzz' })).statusCode, 404)
  t.equal((await plan({ target: base })).json().steps.length, 0, 'nothing to do is an empty plan')
  t.equal((await app.inject({ url: '/migrations/plans/6f1c1c52-4b8e-4d55-a1a3-6f2f0c1d0e55', headers: bearer('read') })).json().type, 'plan-not-found')
  t.equal((await app.inject({ url: '/migrations/plans/not-a-uuid', headers: bearer('read') })).statusCode, 400)
})

t.test('approval: an admin, not the token that asked, and errors need an override', async (t) => {
  const id = (await plan({}, bearer('admin'))).json().id
  t.equal((await approve(id, {}, bearer('migrate'))).statusCode, 403)
  const self = await approve(id, { override: 'mine' }, bearer('admin'))
  t.equal(self.statusCode, 403)
  t.equal(self.json().type, 'self-approval')
  const withoutOverride = await approve(id, {})
  t.equal(withoutOverride.statusCode, 409)
  t.match(withoutOverride.json(), { type: 'plan-has-errors', errors: 2, detail: `plan ${id} has 2 unacknowledged error findings`, nextStep: /\{ "override": "<reason>" \}/ })
  const approved = await approve(id, { override: 'the index builds in seconds at this size' })
  t.equal(approved.statusCode, 200)
  t.match(approved.json().approval, { approvedBy: 'admin', override: 'the index builds in seconds at this size' })
  t.match(approved.json().approval.approvedAt, /^\d{4}-\d\d-\d\dT/)
  t.equal((await approve(id, { override: 'again' })).json().type, 'plan-already-approved')

  const clean = (await plan({ target: base, direction: 'downgrade' }, bearer('admin'))).json()
  t.equal(clean.summary.errors, 0)
  const cleanApproved = await approve(clean.id, {})
  t.equal(cleanApproved.statusCode, 200, 'a plan without errors needs no override')
  t.equal(cleanApproved.json().approval.override, null)
})

t.test('with approval required, only an approved plan runs, and only from its starting state', async (t) => {
  const upgrade = (payload: object, on = gated) => on.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload })
  const refused = await upgrade({})
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { type: 'approval-required', direction: 'upgrade', nextStep: /POST \/migrations\/plan, .*POST \/migrations\/plans\/\{id\}\/approve/ })
  t.notMatch(refused.json().detail, /POST/, 'the detail says what happened; nextStep what to do')
  t.equal((await gated.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: 'base' } })).json().type, 'approval-required')
  t.equal((await upgrade({ dryRun: true, target: '+1' })).statusCode, 200, 'a dry run changes nothing and needs no plan')

  const stale = (await plan({})).json()
  t.match((await upgrade({ planId: stale.id })).json(), { type: 'plan-not-approved', planId: stale.id, nextStep: `an admin approves it with POST /migrations/plans/${stale.id}/approve` })
  t.equal((await approve(stale.id, { override: 'reviewed' })).statusCode, 200)
  const downgradePlan = (await plan({ target: 'base', direction: 'downgrade' }, bearer('admin'))).json()
  t.equal((await upgrade({ planId: downgradePlan.id })).json().type, 'plan-mismatch')
  t.equal((await upgrade({ planId: stale.id, target: index })).json().type, 'plan-mismatch')

  // Another replica, without the setting, migrates in between.
  t.equal((await upgrade({ target: '+1' }, app)).statusCode, 200)
  const staleAnswer = await upgrade({ planId: stale.id })
  t.equal(staleAnswer.statusCode, 409)
  t.match(staleAnswer.json(), { type: 'plan-stale', expectedFrom: [base], actualFrom: [index] })
  // The engine checks again under the lock: a state that moved after the route looked is refused too.
  await t.rejects(gated.migrator.upgrade({ target: 'head', actor: 'test', expected: { from: [base], steps: stale.steps } }), PlanStaleError)
  t.same(await db('alembic_version').pluck('version_num'), [index])

  const fresh = (await plan({})).json()
  t.same(fresh.steps.map((step: { revision: string }) => step.revision), [typeChange, newTable, acknowledged])
  await approve(fresh.id, { override: 'maintenance window' })
  const applied = await upgrade({ planId: fresh.id })
  t.equal(applied.statusCode, 200)
  t.same(applied.json().steps.map((step: { revision: string }) => step.revision), [typeChange, newTable, acknowledged], 'exactly the plan\'s steps')
  t.same(await db('alembic_version').pluck('version_num'), [acknowledged])
  const operation = (await gated.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations[0]
  t.match(operation, { kind: 'upgrade', status: 'succeeded', actor: `migrate (plan ${fresh.id})` }, 'the audit log names the plan, which keeps the override')
  t.equal((await upgrade({ planId: fresh.id })).json().type, 'plan-stale', 'a plan runs once')
})
