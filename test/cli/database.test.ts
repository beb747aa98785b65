import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters as shown } from 'node:util'
import t from 'tap'
import { runCli, runCliInTerminal } from '../helpers/cli.js'
import { startServer } from '../helpers/server.js'
import { belowShippedHead as below, seedRevisions, shippedHead as head, shippedRevisions } from '../helpers/shipped.js'

/**
 * The CLI with no URL finds the embedded database of DATA_DIR: the one a running service keeps
 * up, or, with none running, one it starts for the command and stops after.
 */
const dataDir = await mkdtemp(join(tmpdir(), 'aip-schema-cli-data-'))
t.teardown(() => rm(dataDir, { recursive: true, force: true }))
const env = { DATA_DIR: dataDir }
const [r1] = seedRevisions
const escape = '\u001B'

const server = await startServer(env)
t.teardown(() => server.stop())
const password = (await readFile(join(dataDir, 'password'), 'utf8')).trim()

t.test('beside a running service: the database the service started, said on stderr without its password', async (t) => {
  const current = await runCli(['current'], env)
  t.equal(current.code, 0, current.stderr)
  t.equal(current.stdout, `${head} (head)\n`)
  t.match(current.stderr, new RegExp(`^Database: the embedded PostgreSQL in ${dataDir} \\(run by aip-schema pid ${server.child.pid}, port \\d+\\)\n$`))
  t.notOk(current.stderr.includes(password), 'no password')
  const down = await runCli(['downgrade', 'base'], env)
  t.equal(down.code, 0, down.stderr)
  const status = await (await fetch(`${server.baseUrl}/migrations/current`)).json() as { current: string[] }
  t.same(status.current, [], 'the service sees what the CLI did: one database')
})

t.test('a run followed through the service, on a terminal: a line per step done, with its place and time', async (t) => {
  const run = await runCliInTerminal(['upgrade', '--url', server.baseUrl])
  t.equal(run.code, 0, run.output)
  t.match(shown(run.output), `✔ Running upgrade  -> ${r1}, create initial tables (1 of ${shippedRevisions.length}, `)
  t.match(shown(run.output), new RegExp(`✔ Running upgrade \\S+ -> ${head}, [^\\n]* \\(${shippedRevisions.length} of ${shippedRevisions.length}, \\d+\\.\\d s\\)`))
  t.match(run.output, `Upgraded <base> -> ${head} in ${shippedRevisions.length} steps`)
})

t.test('with no service running: started for the command and stopped after; the exit code is the verb\'s', async (t) => {
  await server.stop()
  const down = await runCli(['downgrade', '-1'], env)
  t.equal(down.code, 0, down.stderr)
  t.equal(down.stdout, `Downgraded ${head} -> ${below} in 1 step\n`)
  t.equal(down.stderr.split('\n')[0], `Database: the embedded PostgreSQL in ${dataDir} (started for this command, stopped after)`)
  t.notOk(existsSync(join(dataDir, 'pg', 'postmaster.pid')), 'PostgreSQL stopped')
  t.notOk(existsSync(join(dataDir, 'aip-schema.pid')), 'the data directory released')
  const failed = await runCli(['upgrade', 'zzzz'], env)
  t.equal(failed.code, 1, 'a failure exits 1, whatever the embedded server\'s exit hook would say')
  t.match(failed.stderr, /FAILED: no revision matches 'zzzz'/)
  const json = await runCli(['current', '--json'], env)
  t.equal(json.code, 0)
  t.same(json.json().current, [below])
  t.equal(json.stderr, '', '--json keeps stderr for problems')
})

t.test('on a terminal: live progress with colour, or without it under NO_COLOR; piped: the same lines as ever', async (t) => {
  const live = await runCliInTerminal(['upgrade'], env)
  t.equal(live.code, 0, live.output)
  t.match(live.output, `${escape}[32m✔${escape}[39m Running upgrade ${below} -> ${head}, `)
  t.match(shown(live.output), new RegExp(`✔ Running upgrade ${below} -> ${head}, .* \\(1 of 1, \\d+\\.\\d s\\)`))
  t.match(live.output, `Upgraded ${below} -> ${head} in 1 step`)
  const piped = await runCli(['downgrade', '-1'], env)
  t.equal(piped.code, 0, piped.stderr)
  t.notOk(piped.stderr.includes(escape), 'no escape codes off a terminal')
  t.match(piped.stderr, `\nRunning downgrade ${head} -> ${below}, `)
  t.match(piped.stderr, / \(1\/1\)\n$/)
  const plain = await runCliInTerminal(['upgrade'], { ...env, NO_COLOR: '1' })
  t.equal(plain.code, 0, plain.output)
  t.match(plain.output, `✔ Running upgrade ${below} -> ${head}, `)
  t.notMatch(plain.output, new RegExp(`${escape}\\[3\\dm`), 'no colour under NO_COLOR')
})

t.test('a data directory with no database, or none at all: bad usage, saying what to do', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'aip-schema-cli-empty-'))
  t.teardown(() => rm(empty, { recursive: true, force: true }))
  const none = await runCli(['current'], { DATA_DIR: empty })
  t.equal(none.code, 2)
  t.match(none.stderr, `DATA_DIR ${empty} holds no embedded database yet; run \`npm start\` once`)
  t.notOk(existsSync(join(empty, 'pg')), 'the CLI makes no database')
  const missing = await runCli(['current'], { DATA_DIR: join(empty, 'nowhere') })
  t.equal(missing.code, 2)
  t.match(missing.stderr, `DATA_DIR ${join(empty, 'nowhere')} does not exist`)
})

t.test('DATABASE_URL and MIGRATION_DATABASE_URL come first, named without their password', async (t) => {
  const given = await runCli(['heads'], { ...env, DATABASE_URL: 'postgres://app:s3cret@127.0.0.1:9/app' })
  t.equal(given.code, 0, given.stderr)
  t.equal(given.stderr, 'Database: postgres://app@127.0.0.1:9/app (DATABASE_URL)\n')
  const direct = await runCli(['heads'], { ...env, DATABASE_URL: 'postgres://app:s3cret@pooler:6432/app', MIGRATION_DATABASE_URL: 'postgres://owner@127.0.0.1:9/app?password=s3cret' })
  t.equal(direct.stderr, 'Database: postgres://owner@127.0.0.1:9/app (MIGRATION_DATABASE_URL)\n')
})

t.test('a command stopped by a signal stops the database it started', async (t) => {
  // The CLI's own module, holding the database as a verb would, in a process of its own.
  const holder = spawn(process.execPath, ['--input-type=module', '-e', [
    `const { openCliDatabase } = await import(${JSON.stringify(new URL('../../dist/cli/database.js', import.meta.url).href)})`,
    `await openCliDatabase({ databaseUrl: null, migrationDatabaseUrl: null, dataDir: ${JSON.stringify(dataDir)} })`,
    "process.stdout.write('up\\n')",
    'setInterval(() => {}, 1000)',
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [up] = await once(holder.stdout, 'data') as [Buffer]
  t.equal(up.toString(), 'up\n')
  t.ok(existsSync(join(dataDir, 'pg', 'postmaster.pid')), 'running')
  holder.kill('SIGTERM')
  const [code] = await once(holder, 'exit') as [number | null]
  t.equal(code, 143)
  t.notOk(existsSync(join(dataDir, 'pg', 'postmaster.pid')), 'PostgreSQL stopped')
})
