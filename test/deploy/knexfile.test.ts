import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { createTestDatabase } from '../helpers/database.js'
import { loadRevisions, RevisionGraph } from '../../src/migrator/index.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const graph = RevisionGraph.build(await loadRevisions())
const url = await createTestDatabase(t, 'knexfile')

/** `npx knex …` in the checkout, as a user types it; it finds the shipped knexfile itself. */
function knex (args: string[], env: Record<string, string> = { DATABASE_URL: url }): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['--no-install', 'knex', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
    })
  })
}

/** What `migrate:list` prints: the completed names, then the pending ones. */
function listed (stdout: string): { completed: string[], pending: string[] } {
  const section = (heading: RegExp) => {
    const lines = stdout.split('\n')
    const start = lines.findIndex((line) => heading.test(line))
    if (start < 0) return []
    const rest = lines.slice(start + 1)
    const end = rest.findIndex((line) => !/^[A-Za-z0-9_]+$/.test(line))
    return end < 0 ? rest : rest.slice(0, end)
  }
  return { completed: section(/Completed Migration/), pending: section(/Pending Migration/) }
}

const ids = graph.all().map((revision) => revision.revision)

t.test('knex migrate:list on a database the service migrated: every revision completed, in graph order, none pending', async (t) => {
  t.equal((await runCli(['upgrade', 'heads'], { DATABASE_URL: url })).code, 0)
  const list = await knex(['migrate:list'])
  t.equal(list.code, 0, list.stderr)
  t.same(listed(list.stdout), { completed: ids, pending: [] })
  t.match(list.stdout, /No Pending Migration files Found/)
})

t.test('after aip-schema downgrade -1, one pending: the head it took off', async (t) => {
  t.equal((await runCli(['downgrade', '-1'], { DATABASE_URL: url })).code, 0)
  const list = await knex(['migrate:list'])
  t.equal(list.code, 0, list.stderr)
  const [head] = graph.heads
  t.same(listed(list.stdout), { completed: ids.filter((id) => id !== head), pending: [head] })
})

t.test('migrating through knex is refused with one line that points to aip-schema, and changes nothing', async (t) => {
  const before = (await runCli(['current', '--json'], { DATABASE_URL: url })).json()
  for (const command of [['migrate:latest'], ['migrate:up'], ['migrate:down'], ['migrate:rollback', '--all']]) {
    const run = await knex(command)
    t.equal(run.code, 1, `${command[0]}: exit 1`)
    t.match(run.stderr.trim().split('\n'), [/aip-schema upgrade/], `${command[0]}: one line naming aip-schema`)
  }
  t.same((await runCli(['current', '--json'], { DATABASE_URL: url })).json(), before, 'the database did not move')
})

t.test('without a database URL, one line saying what to set', async (t) => {
  const run = await knex(['migrate:list'], {})
  t.equal(run.code, 1)
  t.match(run.stderr.trim().split('\n'), [/DATABASE_URL/])
})
