import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runCli as runInProcess } from '../../src/cli/run.js'
import { bearer, buildTestApp, tokens } from '../helpers/app.js'
import type { CliRun } from '../helpers/cli.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'

const migrationsDir = fileURLToPath(new URL('../fixtures/review-revisions/', import.meta.url))
const [base, index, acknowledged] = ['a0a0a0a0a0a0', 'b1b1b1b1b1b1', 'e4e4e4e4e4e4']

const url = await createTestDatabase(t, 'cli_plans')
const db = testKnex(t, url)
const gated = await buildTestApp(t, url, { migrationsDir, instance: 'gated', extraTokens: 'admin=second-admin-token', review: { approvalRequired: true } })
const replica = await buildTestApp(t, url, { migrationsDir, instance: 'other-replica' })
const baseUrl = await gated.listen({ host: '127.0.0.1', port: 0 })

const arranged = await replica.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: base } })
if (arranged.statusCode !== 200) throw new Error(`could not arrange the database: ${arranged.body}`)
await db.raw("INSERT INTO model_runs (model_type) SELECT 'xgboost' FROM generate_series(1, 150000)")
await db.raw('VACUUM ANALYZE model_runs')

/** The command line in this process, through the service with the given token. */
async function cli (args: readonly string[], token: string = tokens.admin): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await runInProcess([...args, '--url', baseUrl], { AIP_SCHEMA_TOKEN: token }, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: (text: string) => { stderr += text } } })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

t.test('plan prints each finding under its statement, sized by the live table', async (t) => {
  const run = await cli(['plan'], tokens.migrate)
  t.equal(run.code, 0, run.stderr)
  const lines = run.stdout.split('\n')
  t.match(lines[0], new RegExp(`^Plan [0-9a-f-]{36}: upgrade ${base} -> ${acknowledged} \\(target head\\), 4 steps$`))
  t.match(lines[1], /^Findings: 2 errors, 4 warnings, 1 acknowledged; squawk \d+\.\d+\.\d+, large tables from 100,000 rows$/)
  t.match(lines[2], /^Not approved \(asked for by migrate at /)
  const step = lines.indexOf(`-- upgrade ${index}, index model runs by type, without CONCURRENTLY`)
  t.ok(step > 0, 'the step has its header')
  t.equal(lines[step + 1], 'CREATE INDEX IF NOT EXISTS ix_model_runs_model_type ON model_runs (model_type);')
  t.match(lines[step + 2], /^-- {3}ERROR require-concurrent-index-creation \[model_runs, ~150,000 rows, SHARE lock\]: During normal index creation/)
  t.match(run.stdout, /-- {3}acknowledged: built in the Sunday maintenance window, writes paused/)
  t.match(lines.at(-2), /^-- not checked: require-lock-timeout \(.+\); require-statement-timeout \(.+\)$/)
  t.equal((await cli(['plan', '--downgrade'])).code, 2, 'a downgrade plan names its target')
  t.equal((await cli(['plan', 'base', '--downgrade'], tokens.migrate)).code, 1, 'a downgrade plan is an admin\'s')
})

t.test('approve, refuse without a plan, stale after another replica, then apply', async (t) => {
  const refused = await cli(['upgrade'], tokens.migrate)
  t.equal(refused.code, 1)
  t.match(refused.stderr, /FAILED: MIGRATION_APPROVAL=required: an upgrade needs an approved plan, and none was named\nNext: aip-schema plan, an admin runs aip-schema approve <planId>, then aip-schema upgrade --plan <planId>\n/)
  t.notMatch(refused.stderr, /POST /, 'the service\'s next step, in requests, is not the CLI\'s')

  const stale = (await cli(['plan', '--json'], tokens.admin)).json()
  const self = await cli(['approve', stale.id, '--override', 'mine'], tokens.admin)
  t.equal(self.code, 1)
  t.match(self.stderr, /another admin token must approve it/)
  const withoutOverride = await cli(['approve', stale.id], 'second-admin-token')
  t.equal(withoutOverride.code, 1)
  t.match(withoutOverride.stderr, new RegExp(`has 2 unacknowledged error findings\nNext: aip-schema approve ${stale.id} --override "<reason>"`))
  const approved = await cli(['approve', stale.id, '--override', 'maintenance window'], 'second-admin-token')
  t.equal(approved.code, 0, approved.stderr)
  t.match(approved.stdout, /^Approved by admin at \S+, overriding its errors: maintenance window\nApply it with: aip-schema upgrade --plan /)

  t.equal((await replica.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: '+1' } })).statusCode, 200)
  const staleRun = await cli(['upgrade', '--plan', stale.id], tokens.migrate)
  t.equal(staleRun.code, 1)
  t.match(staleRun.stderr, new RegExp(`FAILED: the plan was made against ${base} but the database is now at ${index}`))

  const fresh = (await cli(['plan', '--json'], tokens.admin)).json()
  t.equal((await cli(['approve', fresh.id, '--override', 'maintenance window'], 'second-admin-token')).code, 0)
  const applied = await cli(['upgrade', '--plan', fresh.id], tokens.migrate)
  t.equal(applied.code, 0, applied.stderr)
  t.match(applied.stdout, new RegExp(`^Upgraded ${index} -> ${acknowledged} in 3 steps`))
  t.same(await db('alembic_version').pluck('version_num'), [acknowledged])
})

t.test('check --lint fails on an error finding no revision acknowledges', async (t) => {
  await replica.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: base } })
  const run = await cli(['check', '--lint'], tokens.migrate)
  t.equal(run.code, 1)
  const lint = run.stdout.split('\n').filter((line) => line.startsWith('FAILED: lint: '))
  t.equal(lint.length, 2, 'the acknowledged one is not among them')
  t.match(lint[0], new RegExp(`^FAILED: lint: ${index} statement 1: require-concurrent-index-creation: `))
  const json = (await cli(['check', '--lint', '--json'], tokens.migrate)).json()
  t.equal(json.plan.summary.errors, 2)
})
