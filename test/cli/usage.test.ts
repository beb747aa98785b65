import t from 'tap'
import { runCli as runInProcess } from '../../src/cli/run.js'
import { runCli } from '../helpers/cli.js'

const verbs = ['current', 'history', 'heads', 'show', 'upgrade', 'downgrade', 'stamp', 'check', 'revision', 'merge']

/** Usage is decided before any transport is loaded: checked in process, many cases cheaply. */
async function inProcess (args: string[], env: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runInProcess(args, env, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: (text: string) => { stderr += text } } })
  return { code, stdout, stderr }
}

t.test('--help on every verb, and on none', async (t) => {
  for (const verb of verbs) {
    const run = await inProcess([verb, '--help'])
    t.equal(run.code, 0, verb)
    t.match(run.stdout, new RegExp(`^usage: aip-schema ${verb}`), verb)
    t.same(await inProcess([verb, '-h']), run, `${verb} -h`)
  }
  const overview = await inProcess(['--help'])
  t.equal(overview.code, 0)
  for (const verb of verbs) t.match(overview.stdout, new RegExp(`\\n  ${verb} +\\S`), `the overview lists ${verb}`)
})

t.test('bad usage exits 2 and says what is wrong', async (t) => {
  const database = { DATABASE_URL: 'postgres://127.0.0.1:9/nothing' }
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [[], {}, /no command given/],
    [['frobnicate'], {}, /unknown command 'frobnicate'/],
    [['upgrade', '--frob'], database, /Unknown option '--frob'/],
    [['downgrade'], database, /downgrade: missing argument/],
    [['show', 'a', 'b'], database, /unexpected argument 'b'/],
    [['current'], { DATA_DIR: '/nonexistent/aip-schema-data' }, /DATABASE_URL is not set and DATA_DIR \/nonexistent\/aip-schema-data does not exist/],
    [['current', '--url', 'ftp://example'], {}, /--url must be an http/],
    [['upgrade'], { ...database, MIGRATION_LOCK_WAIT_MS: 'soon' }, /invalid configuration: .*MIGRATION_LOCK_WAIT_MS must be integer/],
    [['current'], { ...database, MIGRATION_STATEMENT_TIMEOUT_MS: '-1' }, /invalid configuration: .*MIGRATION_STATEMENT_TIMEOUT_MS must be >= 0/],
    [['revision'], {}, /a message is required/],
    [['merge', 'heads', '-m', ' '], {}, /a message is required/],
    [['history', '-r', 'nocolon'], database, /is not start:end/],
  ]
  for (const [args, env, message] of cases) {
    const run = await inProcess(args, env)
    t.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
    t.match(run.stderr, message, args.join(' '))
    t.equal(run.stdout, '', 'nothing on stdout')
  }
})

t.test('the built binary: help, a usage error, and a relative target that looks like an option', async (t) => {
  const [help, usage, relative] = await Promise.all([
    runCli(['downgrade', '--help']),
    runCli(['upgrade', '--frob'], { DATABASE_URL: 'postgres://127.0.0.1:9/nothing' }),
    runCli(['downgrade', '-1', '--url', 'http://127.0.0.1:9']),
  ])
  t.equal(help.code, 0)
  t.match(help.stdout, /^usage: aip-schema downgrade <target>/)
  t.equal(usage.code, 2)
  t.match(usage.stderr, /Unknown option '--frob'/)
  t.equal(relative.code, 1, '-1 is taken as the target, and the run fails only on the unreachable service')
  t.match(relative.stderr, /cannot reach/)
})
