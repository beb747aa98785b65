import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import t, { type Test } from 'tap'
import { cliScript, runCli, type CliRun } from '../helpers/cli.js'
import { createTestDatabase, serverUrl } from '../helpers/database.js'
import { shipped, shippedRevisions } from '../helpers/shipped.js'

// The command's server: a database of this file's own on the test server; the scratch databases go beside it.
const env = { DATABASE_URL: await createTestDatabase(t, 'revision_test_cli') }
const fixtures = fileURLToPath(new URL('../fixtures/revision-test/', import.meta.url))

/** `aip-schema test` over one planted revision set, with its committed snapshots. */
function fixture (name: string, snapshots = join(fixtures, name, 'snapshots')): string[] {
  return ['--dir', join(fixtures, name), '--snapshots', snapshots]
}

/** The scratch databases `aip-schema test` made and left on the server. */
async function scratchDatabases (): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'aip\\_schema\\_revision\\_test\\_%'")).rows.map((row) => row.datname)
  } finally {
    await client.end()
  }
}

/** The built CLI, then the check that it left no scratch database behind, whatever its outcome. */
async function aipSchema (t: Test, args: readonly string[]): Promise<CliRun> {
  const run = await runCli(args, env)
  t.same(await scratchDatabases(), [], `${args.slice(0, 3).join(' ')}: the scratch database is dropped when the command ends`)
  return run
}

t.test("the project's own revisions go up, down and up again with data, each equal to its snapshot", async (t) => {
  const run = await aipSchema(t, ['test', '--json'])
  t.equal(run.code, 0, run.stderr)
  const report = run.json()
  t.equal(report.ok, true)
  t.same(report.heads, shipped.heads)
  t.same(report.revisions.map((result: { revision: string }) => result.revision), shippedRevisions, 'every revision of the graph, in its order')
  for (const result of report.revisions) {
    t.same(Object.keys(result).sort(), ['down', 'problem', 'reup', 'revision', 'up'])
    t.match(result, { up: { ok: true, ms: Number }, down: { ok: true, ms: Number }, reup: { ok: true, ms: Number }, problem: null }, result.revision)
  }
  t.equal(run.stderr, '', '--json keeps stderr for problems')
})

t.test('on a terminal it prints a table with each revision\'s up, down and re-up times', async (t) => {
  const run = await aipSchema(t, ['test', ...fixture('good')])
  t.equal(run.code, 0, run.stderr)
  const [header, ...rows] = run.stdout.split('\n')
  t.match(header, /^revision\s+up ms\s+down ms\s+re-up ms\s+result$/)
  for (const [index, revision] of ['good00000001', 'good00000002', 'good00000003'].entries()) {
    t.match(rows[index], new RegExp(`^${revision}\\s+\\d+\\s+\\d+\\s+\\d+\\s+ok$`))
  }
  t.match(run.stdout, /OK: 3 revision\(s\) went up, down and up again with rows in their tables/)
  t.match(run.stderr, /^Database: .*\(DATABASE_URL\)\ngood00000001: ok\n/, 'the database, then a line per revision as it is done')
  t.notMatch(run.stderr, /note: no rows for/, 'every table of the set (checks, arrays, bytea, jsonb, numeric, a unique index) got its rows')
})

t.test('a table the generator cannot fill is said once on stderr, and the others still get rows', async (t) => {
  const run = await aipSchema(t, ['test', ...fixture('unfillable')])
  t.equal(run.code, 0, 'the revision itself is fine')
  const notes = run.stderr.split('\n').filter((line) => line.startsWith('note: '))
  t.equal(notes.length, 2, notes.join('\n'))
  t.match(notes, [/^note: no rows for codes \(the database refused them: .*violates check constraint "codes_code_check"\)/, /^note: no rows for shapes \(no value can be made for outline of type point\)/])
})

t.test('a down that forgets an index fails, naming the revision, down and the index', async (t) => {
  const run = await aipSchema(t, ['test', ...fixture('forgotten-index')])
  t.equal(run.code, 1)
  t.match(run.stdout, /notes0000002\s+\d+\s+\d+ ✗\s+-\s+FAILED down/)
  t.match(run.stdout, /FAILED: notes0000002 down: the schema differs from the snapshot of notes0000001:\n {2}- index ix_notes_title on notes is not in the expected schema\n/)
  const report = (await aipSchema(t, ['test', '--json', ...fixture('forgotten-index')])).json()
  t.equal(report.ok, false)
  t.match(report.revisions, [
    { revision: 'notes0000001', problem: null },
    { revision: 'notes0000002', up: { ok: true }, down: { ok: false }, reup: { ok: false, ms: 0 }, problem: /notes0000002 down: .*ix_notes_title/s },
  ])
})

t.test('an up that the rows in the table refuse fails, naming the revision and up', async (t) => {
  const run = await aipSchema(t, ['test', '--json', ...fixture('fails-on-rows')])
  t.equal(run.code, 1)
  const report = run.json()
  t.equal(report.ok, false)
  const failed = report.revisions.at(-1)
  t.match(failed, { revision: 'tasks0000002', up: { ok: false }, down: { ok: false, ms: 0 }, reup: { ok: false, ms: 0 } })
  t.match(failed.problem, /^tasks0000002 up: upgrade of tasks0000002 failed: .*column "owner" of relation "tasks" contains null values/)
})

t.test('two heads fail the test and are named, though each branch passes its stairway', async (t) => {
  const run = await aipSchema(t, ['test', ...fixture('two-heads')])
  t.equal(run.code, 1)
  t.match(run.stdout, /FAILED: 2 heads: fork0000000a, fork0000000b \(join them: aip-schema merge/)
  const report = (await aipSchema(t, ['test', '--json', ...fixture('two-heads')])).json()
  t.same(report.heads, ['fork0000000a', 'fork0000000b'])
  t.equal(report.ok, false)
  t.same(report.revisions.map((result: { problem: string | null }) => result.problem), [null, null, null], 'the second branch is tested from its own ancestry')
})

t.test('a revision whose SQL changes from one load to the next fails on its checksum', async (t) => {
  const run = await aipSchema(t, ['test', '--json', ...fixture('unstable-checksum')])
  t.equal(run.code, 1)
  t.match(run.json().revisions, [{ revision: 'clock0000001', problem: /checksum changes from one load of 1_clocked\.mjs to the next/ }])
})

t.test('a revision without a committed snapshot is a problem, said so, not a silent pass', async (t) => {
  const snapshots = await mkdtemp(join(tmpdir(), 'aip-revision-test-snapshots-'))
  t.teardown(() => rm(snapshots, { recursive: true, force: true }))
  for (const file of await readdir(join(fixtures, 'good', 'snapshots'))) {
    if (file !== 'good00000002.json') await copyFile(join(fixtures, 'good', 'snapshots', file), join(snapshots, file))
  }
  const run = await aipSchema(t, ['test', '--json', ...fixture('good', snapshots)])
  t.equal(run.code, 1)
  const report = run.json()
  t.equal(report.ok, false)
  t.match(report.revisions, [
    { revision: 'good00000001', problem: null },
    { revision: 'good00000002', problem: /^no committed snapshot of good00000002 in .*npm run schema:snapshots/ },
    { revision: 'good00000003', problem: /^no committed snapshot of good00000002 in / },
  ], 'the stairway goes on: its parent\'s missing snapshot is the next revision\'s problem too')
})

t.test('--from and --to limit the revisions tested, by id or prefix', async (t) => {
  const tested = async (...bounds: string[]) => {
    const run = await aipSchema(t, ['test', '--json', ...fixture('good'), ...bounds])
    t.equal(run.code, 0, run.stderr)
    return run.json().revisions.map((result: { revision: string }) => result.revision)
  }
  t.same(await tested('--from', 'good00000002'), ['good00000002', 'good00000003'])
  t.same(await tested('--to', 'good00000002'), ['good00000001', 'good00000002'])
  t.same(await tested('--from', 'good00000003', '--to', 'good00000003'), ['good00000003'], 'the revisions below are applied on the way, untested')
})

t.test('bad usage exits 2 and says what is wrong', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['test', '--from', 'nosuchrev', ...fixture('good')], /--from: .*nosuchrev/],
    [['test', '--to', 'good0000000'], /--to: /],
    [['test', '--from', 'good00000003', '--to', 'good00000001', ...fixture('good')], /no revision is both at or after good00000003 and at or before good00000001/],
    [['test', 'extra'], /unexpected argument 'extra'/],
    [['test', '--from'], /--from/],
    [['test', '--url', 'http://127.0.0.1:1'], /does not run through a service/],
  ]
  for (const [args, message] of cases) {
    const run = await aipSchema(t, args)
    t.equal(run.code, 2, args.join(' '))
    t.match(run.stderr, message)
  }
})

t.test('duplicate revision ids fail before any database is made', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'aip-revision-test-duplicates-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await copyFile(join(fixtures, 'good', '1_owners.mjs'), join(dir, '1_owners.mjs'))
  await copyFile(join(fixtures, 'good', '1_owners.mjs'), join(dir, '2_owners_again.mjs'))
  const run = await aipSchema(t, ['test', '--dir', dir])
  t.equal(run.code, 1)
  t.match(run.stderr, /duplicate revision good00000001 in 1_owners\.mjs and 2_owners_again\.mjs/)
})

t.test('Ctrl+C mid-run drops the scratch database and exits 130', async (t) => {
  const child = spawn(process.execPath, [cliScript, 'test', ...fixture('good')], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let interrupted = false
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    // Once the first revision is done, the scratch database certainly exists.
    if (!interrupted && /good00000001: ok/.test(stderr)) interrupted = child.kill('SIGINT')
  })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 130, stderr)
  t.match(stderr, /interrupted: the scratch database was dropped/)
  t.same(await scratchDatabases(), [])
})
