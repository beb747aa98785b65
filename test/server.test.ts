import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createTestDatabase } from './helpers/database.js'
import { runServerToExit, startServer } from './helpers/server.js'
import { shippedHead } from './helpers/shipped.js'

t.test('npm start on the embedded database: at head, survives a restart, owns its DATA_DIR', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'aip-schema-data-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))

  const started = performance.now()
  const first = await startServer({ DATA_DIR: dataDir })
  t.comment(`first start (initdb, start, migrate, listen): ${Math.round(performance.now() - started)} ms`)
  t.teardown(() => first.stop('SIGKILL'))
  t.same(await (await fetch(`${first.baseUrl}/health/live`)).json(), { status: 'ok' })
  const ready = await fetch(`${first.baseUrl}/health/ready`)
  t.equal(ready.status, 200)
  t.match(await ready.json(), { status: 'ready', database: { reachable: true }, schema: { current: [shippedHead], upToDate: true, pending: 0 } })
  const firstOperations = (await (await fetch(`${first.baseUrl}/migrations/operations`)).json() as { operations: Array<{ id: string }> }).operations
  t.equal(firstOperations.length, 1, 'the start-up upgrade is in the audit log')

  const second = await runServerToExit({ DATA_DIR: dataDir, PORT: '0' })
  t.equal(second.code, 1, 'a second service on the same DATA_DIR refuses to start')
  t.match(second.output, /DATA_DIR .* is in use by another aip-schema/)

  t.equal(await first.stop('SIGTERM'), 0, 'SIGTERM closes cleanly')

  const restarted = performance.now()
  const again = await startServer({ DATA_DIR: dataDir })
  t.comment(`restart on existing data: ${Math.round(performance.now() - restarted)} ms`)
  t.teardown(() => again.stop('SIGKILL'))
  const operations = (await (await fetch(`${again.baseUrl}/migrations/operations`)).json() as { operations: Array<{ id: string, steps: unknown[] }> }).operations
  t.equal(operations.length, 2, 'what was written before the restart is still there')
  t.equal(operations[1]?.id, firstOperations[0]?.id)
  t.same(operations[0]?.steps, [], 'nothing left to migrate after a restart')

  t.equal(await again.stop('SIGKILL'), null, 'killed outright')
  const afterKill = await startServer({ DATA_DIR: dataDir })
  t.teardown(() => afterKill.stop('SIGKILL'))
  t.equal((await fetch(`${afterKill.baseUrl}/health/ready`)).status, 200, 'starts again over the orphaned server and its stale pid file')
  t.equal(await afterKill.stop('SIGINT'), 0)
})

t.test('a bad configuration stops start-up with a one-line reason', async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['PORT not a number', { PORT: 'abc' }, /PORT/],
    ['PORT out of range', { PORT: '70000' }, /PORT/],
    ['DATABASE_URL not a URL', { DATABASE_URL: 'not a url', AUTH_DISABLED: 'true' }, /DATABASE_URL/],
    ['DATABASE_URL not postgres', { DATABASE_URL: 'mysql://db/x', AUTH_DISABLED: 'true' }, /postgres/],
    ['a real database with no tokens', { DATABASE_URL: 'postgres://127.0.0.1/x' }, /API_TOKENS/],
    ['an unknown scope', { DATABASE_URL: 'postgres://127.0.0.1/x', API_TOKENS: 'root=x' }, /unknown scope 'root'/],
    ['MIGRATION_DATABASE_URL not a URL', { DATABASE_URL: 'postgres://127.0.0.1/x', MIGRATION_DATABASE_URL: 'direct', AUTH_DISABLED: 'true' }, /MIGRATION_DATABASE_URL is not a URL/],
    ['MIGRATION_DATABASE_URL not postgres', { DATABASE_URL: 'postgres://127.0.0.1/x', MIGRATION_DATABASE_URL: 'mysql://db/x', AUTH_DISABLED: 'true' }, /MIGRATION_DATABASE_URL must use postgres/],
    ['MIGRATION_DATABASE_URL without DATABASE_URL', { MIGRATION_DATABASE_URL: 'postgres://127.0.0.1/x' }, /MIGRATION_DATABASE_URL is set without DATABASE_URL/],
  ]
  // Each process exits as soon as it has read its environment: started together, checked in order.
  const runs = await Promise.all(cases.map(async ([name, env, reason]) => ({ name, reason, ...await runServerToExit(env) })))
  for (const { name, reason, code, output } of runs) {
    t.equal(code, 1, `${name}: exit 1`)
    t.match(output, reason, `${name}: says why`)
    t.equal(output.trim().split('\n').length, 1, `${name}: one line, no stack trace`)
  }
})

t.test('a start keeps the code it compiled for the next in the temporary directory, and starts as well where it cannot write there', async (t) => {
  const url = await createTestDatabase(t, 'compile_cache')
  const tmp = await mkdtemp(join(tmpdir(), 'aip-schema-tmp-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const env = { DATABASE_URL: url, AUTH_DISABLED: 'true', MIGRATE_ON_START: 'false' }

  const first = await startServer({ ...env, TMPDIR: tmp })
  t.equal(await first.stop('SIGTERM'), 0)
  const cached = await readdir(join(tmp, 'node-compile-cache'), { recursive: true })
  t.ok(cached.length > 100, `${cached.length} entries written at exit`)

  const notADirectory = join(tmp, 'file')
  await writeFile(notADirectory, '')
  const unwritable = await startServer({ ...env, TMPDIR: notADirectory })
  t.equal((await fetch(`${unwritable.baseUrl}/health/live`)).status, 200)
  t.equal(await unwritable.stop('SIGTERM'), 0)
  t.notMatch(unwritable.output(), /compile cache/i, 'not a word about it')
})
