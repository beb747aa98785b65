import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'

// Two environments of schema targets in one database beside the service's own.
const selfUrl = await createTestDatabase(t, 'cli_rollout_self')
const tenantsUrl = await createTestDatabase(t, 'cli_rollout_tenants')
const tenants = testKnex(t, tenantsUrl)
const dir = await mkdtemp(join(tmpdir(), 'aip-schema-rollout-cli-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const file = join(dir, 'targets.yaml')
await writeFile(file, `
environments: [development, production]
self: { name: home, environment: development }
targets:
  - { name: dev-a, environment: development, url: "\${TENANTS_URL}", schema: dev_a }
  - { name: prod-a, environment: production, url: "\${TENANTS_URL}", schema: prod_a, labels: { tier: paid } }
  - { name: prod-b, environment: production, url: "\${TENANTS_URL}", schema: prod_b, labels: { tier: paid } }
`)
const server = await startServer({ DATABASE_URL: selfUrl, TARGETS_FILE: file, TENANTS_URL: tenantsUrl, AUTH_DISABLED: 'true', MIGRATE_ON_START: 'false' })
t.teardown(() => server.stop())
const url = ['--url', server.baseUrl]
const heads = async (schema: string) => (await tenants.withSchema(schema).select('version_num').from('alembic_version')).map((row: { version_num: string }) => row.version_num)
const head = ((await (await fetch(`${server.baseUrl}/migrations/heads`)).json()) as { heads: Array<{ revision: string }> }).heads.map((entry) => entry.revision)

t.test('without --url: bad usage, saying rollouts run in the service', async (t) => {
  const run = await runCli(['rollout', 'head', '--env', 'production'], { DATABASE_URL: selfUrl })
  t.equal(run.code, 2)
  t.match(run.stderr, /^aip-schema: rollout: rollouts run in the service.*--url/)
})

t.test('production before development is at head: exit 1, not-promoted naming the environment', async (t) => {
  const run = await runCli(['rollout', 'head', '--env', 'production', ...url], {})
  t.equal(run.code, 1)
  t.match(run.stderr, /FAILED: environment development has targets not yet at the rollout's revision: .*dev-a/)
})

t.test('development with --wait: a line per target, exit 0, every target at head', async (t) => {
  const run = await runCli(['rollout', 'head', '--env', 'development', '--parallel', '2', '--canary', '1', '--wait', ...url], {})
  t.equal(run.code, 0, run.stderr)
  t.match(run.stderr, /dev-a: succeeded {2}base → \S+ {2}\d+ steps/)
  t.match(run.stderr, /home: succeeded/)
  t.match(run.stdout, /^Rollout [0-9a-f-]{36}: upgrade to head in development, succeeded; 2 targets: 2 succeeded\nNAME\s+STATUS\s+BEFORE\s+AFTER\s+STEPS\s+MS\s+PROBLEM\n/)
  t.same(await heads('dev_a'), head)
})

t.test('production by label, --json; then status, and the actions a finished rollout refuses', async (t) => {
  const run = await runCli(['rollout', '--env', 'production', '--label', 'tier:paid', '--canary', '0', '--on-error', 'continue', '--wait', '--json', ...url], {})
  t.equal(run.code, 0, run.stderr)
  const rollout = run.json()
  t.match(rollout, { verb: 'upgrade', target: 'head', environment: 'production', status: 'succeeded', counts: { succeeded: 2 } })
  t.same(rollout.targets.map((target: { name: string }) => target.name), ['prod-a', 'prod-b'])
  t.equal(run.stderr, '', '--json keeps stderr for problems')
  t.same(await heads('prod_b'), head)

  const status = await runCli(['rollout', 'status', rollout.id, ...url], {})
  t.equal(status.code, 0)
  t.match(status.stdout, /\nprod-a\s+succeeded\s+base\s+\S+\s+\d+\s+\d+\s+-\n/)
  for (const action of ['pause', 'resume', 'cancel', 'retry']) {
    const refused = await runCli(['rollout', action, rollout.id, '--json', ...url], {})
    t.equal(refused.code, 1, `${action} of a finished rollout fails`)
    t.match(JSON.parse(refused.stderr), { type: 'rollout-transition' })
  }
  const skipped = await runCli(['rollout', 'skip', rollout.id, 'nobody', ...url], {})
  t.equal(skipped.code, 1)
  t.match(skipped.stderr, /FAILED: .*nobody/)
})

t.test('bad usage: exit 2 before anything is asked of the service', async (t) => {
  for (const args of [['status'], ['skip', 'x'], ['head', '--parallel', 'many'], ['head', '--on-error', 'maybe'], ['head', '--verb', 'sideways'], ['head', '--label', 'tier'], ['one', 'two']]) {
    const run = await runCli(['rollout', ...args, ...url], {})
    t.equal(run.code, 2, `rollout ${args.join(' ')}: ${run.stderr.trim()}`)
  }
})
