import t from 'tap'
import { runCli as runInProcess } from '../../src/cli/run.js'
import { runCli as runProcess, type CliRun } from '../helpers/cli.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { startServer } from '../helpers/server.js'
import { afterSeed, belowShippedHead, seedRevisions, shipped, shippedHead as head, shippedRevisions } from '../helpers/shipped.js'

const [r1, r2, r3, r4] = seedRevisions

/** How Alembic's words name a revision the seed does not have: its parents, itself, its description. */
function laterRevisionLine (id: string): string {
  const { downRevisions, description } = shipped.get(id)
  return `${downRevisions.join(', ')} -> ${id}${id === head ? ' (head)' : ''}, ${description}`
}

const url = await createTestDatabase(t, 'cli_transports')
const db = testKnex(t, url)
const server = await startServer({ DATABASE_URL: url, API_TOKENS: 'admin=admin-token,read=read-token', MIGRATION_LOCK_WAIT_MS: '500' })
t.teardown(() => server.stop())

/**
 * Most runs go through `runCli` in this process (a process per run costs a second on a busy
 * machine); the binary itself runs where the process's exit code and streams are the point.
 */
async function runCli (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await runInProcess(args, env, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: (text: string) => { stderr += text } } })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

const directEnv = { DATABASE_URL: url, MIGRATION_LOCK_WAIT_MS: '500' }
/** Said first on stderr by every direct run in text: which database, by the variable that named it. */
const databaseLine = `Database: ${url} (DATABASE_URL)\n`
const direct = (args: string[]) => runCli(args, directEnv)
const remote = (args: string[], token = 'admin-token') => runCli([...args, '--url', server.baseUrl], { AIP_SCHEMA_TOKEN: token })

/** The same command line through both transports, one after the other. */
async function both (args: string[]): Promise<[CliRun, CliRun]> {
  return [await direct(args), await remote(args)]
}

/** What a migration result says, without the timings that differ from run to run. */
function shape (run: CliRun) {
  const result = run.json<{ from: string[], to: string[], dryRun: boolean, steps: Array<{ revision: string, direction: string, sql: string[] }> }>()
  return { from: result.from, to: result.to, dryRun: result.dryRun, steps: result.steps.map(({ revision, direction, sql }) => ({ revision, direction, sql })) }
}

async function versionTable (): Promise<string[]> {
  return db('alembic_version').pluck('version_num')
}

t.test('at base: current prints nothing, check fails, both transports alike', async (t) => {
  const [viaDb, viaService] = await both(['current', '--json'])
  t.equal(viaDb.code, 0)
  t.same(viaDb.json(), { current: [], heads: [head], upToDate: false, pending: shippedRevisions, ahead: [], breaking: [], interrupted: null })
  t.same(viaService.json(), viaDb.json())
  const [text] = await both(['current'])
  t.equal(text.stdout, '')
  const [checkDb, checkService] = await both(['check'])
  t.equal(checkDb.code, 1)
  t.equal(checkService.code, 1)
  t.match(checkDb.stdout, `FAILED: the database is at <base>, not at head ${head}`)
  t.equal(checkService.stdout.split('\n')[0], checkDb.stdout.split('\n')[0])
})

t.test('upgrade and downgrade give the same results through the engine and through the service', async (t) => {
  const runs: Record<'direct' | 'remote', Array<ReturnType<typeof shape>>> = { direct: [], remote: [] }
  for (const [name, cli] of [['direct', direct], ['remote', remote]] as const) {
    const up = await cli(['upgrade', 'a1b2', '--json'])
    t.equal(up.code, 0, `${name} upgrade: ${up.stderr}`)
    t.same(await versionTable(), [r2])
    const down = await cli(['downgrade', 'base', '--json'])
    t.equal(down.code, 0, `${name} downgrade: ${down.stderr}`)
    t.same(await versionTable(), [])
    runs[name].push(shape(up), shape(down))
  }
  t.same(runs.remote, runs.direct)
  t.same(runs.direct.map((result) => result.steps.map((step) => `${step.direction} ${step.revision}`)), [[`up ${r1}`, `up ${r2}`], [`down ${r2}`, `down ${r1}`]])
  t.ok(runs.direct[0]?.steps[0]?.sql.some((statement) => statement.startsWith('CREATE TABLE users')), 'the SQL each step issued')
})

t.test('a progress line per step on stderr, a summary on stdout, in Alembic words', async (t) => {
  const viaDb = await runProcess(['upgrade', '+2'], directEnv)
  t.equal(viaDb.code, 0)
  t.equal(viaDb.stdout, `Upgraded <base> -> ${r2} in 2 steps\n`)
  t.equal(viaDb.stderr, `${databaseLine}Running upgrade  -> ${r1}, create initial tables (1/2)\nRunning upgrade ${r1} -> ${r2}, add preprocessing history table (2/2)\n`)
  const viaService = await runProcess(['upgrade', '--url', server.baseUrl], { AIP_SCHEMA_TOKEN: 'admin-token' })
  t.equal(viaService.code, 0)
  t.equal(viaService.stdout, `Upgraded ${r2} -> ${head} in ${2 + afterSeed.length} steps\n`)
  t.equal(viaService.stderr, [
    `Running upgrade ${r2} -> ${r3}, add status metadata to model runs (1/${2 + afterSeed.length})`,
    `Running upgrade ${r3} -> ${r4}, add is_active and fitted_transformer to preprocessing steps (2/${2 + afterSeed.length})`,
    ...afterSeed.map((id, done) => `Running upgrade ${laterRevisionLine(id).replace(' (head)', '')} (${3 + done}/${2 + afterSeed.length})`),
  ].map((line) => `${line}\n`).join(''), 'followed step by step through the audit log, with how many steps there are')
  const dry = await direct(['downgrade', '-1', '--dry-run'])
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout, `-- downgrade ${head}`)
  t.match(dry.stdout, `Dry run (rolled back) ${head} -> ${belowShippedHead} in 1 step`)
  t.same(await versionTable(), [head], 'the dry run changed nothing')
  const [noOpDb, noOpService] = await both(['upgrade', 'head'])
  t.equal(noOpDb.stdout, `Nothing to do: the database is at ${head}\n`)
  const [latestDirect] = await db('aip_schema_operations').where('actor', 'like', 'cli:%').orderBy('started_at', 'desc').limit(1)
  t.match(latestDirect, { kind: 'upgrade', target: 'head', status: 'succeeded', from_revisions: [head], to_revisions: [head] }, 'the no-op is in the audit log')
  t.equal(noOpService.stdout, noOpDb.stdout)
})

t.test('read verbs at head print the same JSON and text through both transports', async (t) => {
  const verbs = [['current'], ['current', '--verbose'], ['heads'], ['heads', '--verbose'], ['history'], ['history', '--verbose'], ['history', '-i'], ['history', '-r', `${r1}:a1b2`], ['history', '-r', 'current:'], ['show', 'b2c3'], ['check']]
  for (const args of verbs) {
    const [textDb, textService] = await both(args)
    t.equal(textDb.code, 0, `${args.join(' ')}: ${textDb.stderr}`)
    if (args[0] !== 'check') t.equal(textService.stdout, textDb.stdout, `${args.join(' ')} text`)
    const [jsonDb, jsonService] = await both([...args, '--json'])
    if (args[0] !== 'check') t.same(jsonService.json(), jsonDb.json(), `${args.join(' ')} --json`)
  }
  t.equal((await direct(['current'])).stdout, `${head} (head)\n`)
  t.equal((await direct(['heads'])).stdout, `${head} (head)\n`)
  t.equal((await direct(['history'])).stdout, [
    ...[...afterSeed].reverse().map(laterRevisionLine),
    `${r3} -> ${r4}, add is_active and fitted_transformer to preprocessing steps`,
    `${r2} -> ${r3}, add status metadata to model runs`,
    `${r1} -> ${r2}, add preprocessing history table`,
    `<base> -> ${r1}, create initial tables`,
  ].map((line) => `${line}\n`).join(''))
  t.same((await direct(['history', '-r', `${r1}:a1b2`, '--json'])).json().revisions.map((entry: { revision: string }) => entry.revision), [r2, r1])
  t.same((await direct(['history', '-r', `${r3}:`, '--json'])).json().revisions.map((entry: { revision: string }) => entry.revision), [...[...afterSeed].reverse(), r4, r3])
  t.match((await direct(['history', '-i'])).stdout, `-> ${head} (head) (current),`)
  const show = await direct(['show', 'b2c3', '--json'])
  t.equal(show.json().revision, r3)
  t.ok(show.json().up.length > 0)
})

t.test('stamp: backwards and forwards, both transports', async (t) => {
  const [viaDb, viaService] = [await direct(['stamp', r3, '--json']), await remote(['stamp', 'heads', '--json'])]
  t.same(viaDb.json(), { from: [head], to: [r3], dryRun: false, steps: [], ahead: [] })
  t.same(viaService.json(), { from: [r3], to: [head], dryRun: false, steps: [], ahead: [] })
  t.same(await versionTable(), [head])
  const text = await remote(['stamp', 'head'])
  t.equal(text.stdout, `Stamped ${head} -> ${head}\n`)
})

t.test('check fails on drift: the live schema is not what its revision produces', async (t) => {
  await db.raw('DROP INDEX ix_model_runs_experiment_id')
  t.teardown(() => db.raw('CREATE INDEX ix_model_runs_experiment_id ON model_runs (experiment_id)'))
  const viaDb = await direct(['check'])
  t.equal(viaDb.code, 1)
  t.equal(viaDb.stdout, 'FAILED: drift: index ix_model_runs_experiment_id on model_runs is missing\n')
  const viaService = await remote(['check', '--json'])
  const report = viaService.json()
  if (report.drift === null) {
    // A service without GET /schema/drift: the check says what it could not see.
    t.match(report.notes, [/drift not checked/])
  } else {
    t.equal(viaService.code, 1)
    t.same(report.findings, ['drift: index ix_model_runs_experiment_id on model_runs is missing'])
  }
})

t.test('check fails on an applied revision whose SQL changed, where the transport can see it', async (t) => {
  await db('aip_schema_revisions').where({ revision: r2 }).update({ checksum: '0'.repeat(64) })
  t.teardown(() => direct(['stamp', 'heads']))
  const viaDb = await direct(['check', '--json'])
  t.equal(viaDb.code, 1)
  t.match(viaDb.json().findings, [/applied revisions whose SQL has since changed: a1b2c3d4e5f6/])
  const viaService = await remote(['check', '--json'])
  t.equal(viaService.json().checksumsVerified, false, 'the service does not expose checksums, and says so')
  for (const upgrade of await both(['upgrade', 'head'])) {
    t.equal(upgrade.code, 1, 'nothing runs on a changed revision, not even a no-op')
    t.match(upgrade.stderr, /FAILED: .*a1b2c3d4e5f6/)
  }
})

t.test('failures: exit 1 with the problem, through both transports', async (t) => {
  const [unknownDb, unknownService] = await both(['upgrade', 'zzzz'])
  t.equal(unknownDb.code, 1)
  t.equal(unknownDb.stderr, `${databaseLine}FAILED: no revision matches 'zzzz'\n`)
  t.equal(unknownService.code, 1)
  t.equal(unknownService.stderr, "FAILED: no revision matches 'zzzz'\n", 'the service was named on the command line: no line says which database')
  const [jsonDb, jsonService] = await both(['show', 'nope', '--json'])
  t.same(JSON.parse(jsonDb.stderr), { type: 'unknown-revision', detail: "no revision matches 'nope'", revision: 'nope' })
  t.match(JSON.parse(jsonService.stderr), { ...JSON.parse(jsonDb.stderr), title: 'Unknown revision', status: 404 }, 'the service adds its HTTP fields')
  const [wrongWayDb, wrongWayService] = await both(['downgrade', '+1'])
  t.equal(wrongWayDb.code, 1)
  t.equal(wrongWayService.code, 1)
  const forbidden = await remote(['downgrade', 'base'], 'read-token')
  t.equal(forbidden.code, 1)
  t.match(forbidden.stderr, /admin/)
  const unknownToken = await remote(['current'], 'who-knows')
  t.equal(unknownToken.code, 1)
  const unreachable = await runProcess(['current', '--url', 'http://127.0.0.1:9'])
  t.equal(unreachable.code, 1)
  t.match(unreachable.stderr, /FAILED: cannot reach http:\/\/127\.0\.0\.1:9/)
  const badDatabase = await runCli(['current'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nothing' })
  t.equal(badDatabase.code, 1)
  t.match(badDatabase.stderr, /\nFAILED: connect ECONNREFUSED 127\.0\.0\.1:9\n$/, 'the database named, then why it failed')
})

t.test('exit 3 when another session holds the migration lock', async (t) => {
  t.equal((await direct(['downgrade', '-1'])).code, 0)
  const holder = await db.client.acquireConnection()
  // src/migrator/lock.ts: the 'aips' class, object 1.
  await db.raw('SELECT pg_advisory_lock(?, 1)', [0x61697073]).connection(holder)
  try {
    const [viaDb, viaService] = await Promise.all([runProcess(['upgrade', 'head'], directEnv), runProcess(['upgrade', 'head', '--url', server.baseUrl], { AIP_SCHEMA_TOKEN: 'admin-token' })])
    t.equal(viaDb.code, 3, viaDb.stderr)
    t.match(viaDb.stderr, /FAILED: the migration lock is held by backend pid \d+/)
    t.equal(viaService.code, 3, viaService.stderr)
    const asJson = await direct(['upgrade', '--json'])
    t.equal(asJson.code, 3)
    t.equal(JSON.parse(asJson.stderr).type, 'lock-not-acquired')
  } finally {
    await db.raw('SELECT pg_advisory_unlock(?, 1)', [0x61697073]).connection(holder)
    await db.client.releaseConnection(holder)
  }
  t.equal((await direct(['upgrade'])).code, 0, 'free again')
})
