import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { createTestDatabase } from '../helpers/database.js'
import { freePort, startServer, type RunningServer } from '../helpers/server.js'
import { shippedHead, shippedRevisions } from '../helpers/shipped.js'
import { waitFor } from '../helpers/wait.js'

interface LogRecord { level: number, msg: string, [field: string]: unknown }

const serverScript = fileURLToPath(new URL('../../dist/server.js', import.meta.url))
const password = 'pw-never-shown'
const secrets = { read: 'read-token-never-shown', admin: 'admin-token-never-shown' }
const apiTokens = `read=${secrets.read},admin=${secrets.admin}`
const stop = 'Ctrl+C (SIGINT) or SIGTERM'

const databaseUrl = new URL(await createTestDatabase(t, 'start_banner'))
databaseUrl.password = password
const externalDatabase = { embedded: false, host: databaseUrl.hostname, port: Number(databaseUrl.port || 5432), database: databaseUrl.pathname.slice(1) }
const external = { DATABASE_URL: databaseUrl.toString(), API_TOKENS: apiTokens, MIGRATE_ON_START: 'false' }

function records (output: string): LogRecord[] {
  return output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogRecord)
}

async function bannerOf (server: RunningServer): Promise<LogRecord> {
  await waitFor(async () => records(server.output()).some((record) => record.banner !== undefined), 10_000)
  return records(server.output()).find((record) => record.banner !== undefined) as LogRecord
}

/** The banner's fields that depend only on where the service listens; the status page (`GET /`) only once it exists. */
async function servedAt (baseUrl: string): Promise<Record<string, unknown>> {
  const statusPage = (await fetch(`${baseUrl}/`)).ok ? `${baseUrl}/` : null
  return { url: baseUrl, docs: `${baseUrl}/docs`, statusPage, migrationDatabase: null, stop }
}

t.test('LOG_FORMAT=json on the embedded database: the first upgrade in two records, then one banner record', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'aip-schema-banner-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const server = await startServer({ DATA_DIR: dataDir, LOG_FORMAT: 'json' })
  t.teardown(() => server.stop('SIGKILL'))
  const banner = await bannerOf(server)
  t.same(banner.banner, {
    ...await servedAt(server.baseUrl),
    database: { embedded: true, dataDir: resolve(dataDir) },
    schema: { state: 'at-head', heads: [shippedHead] },
    auth: { tokenRequired: false, scopes: [] },
  })
  t.equal(banner.msg, `aip-schema is serving on ${server.baseUrl}`)

  // Requests the test makes while the service starts are not its start.
  const beforeBanner = records(server.output()).slice(0, records(server.output()).indexOf(banner)).filter((record) => record.req === undefined && record.res === undefined)
  t.ok(beforeBanner.length <= 4, `${beforeBanner.length} records from start to banner: ${beforeBanner.map((record) => record.msg).join(' | ')}`)
  t.match(beforeBanner[0]?.msg, `upgrading the schema from base to head ${shippedHead}: ${shippedRevisions.length} revisions pending`)
  const summary = beforeBanner.find((record) => record.steps !== undefined)
  t.match(summary?.msg, new RegExp(`^schema at head ${shippedHead}: ${shippedRevisions.length} revisions applied in \\d+ ms \\(`))
  t.same((summary?.steps as Array<{ revision: string }>).map((step) => step.revision), shippedRevisions, 'each revision in the one summary record')
  t.same(beforeBanner.filter((record) => /^(upgrading [0-9a-z]{12}$|migration lock acquired)|done$/.test(record.msg)), [], 'no record per lock or per step')
  t.equal(await server.stop('SIGINT'), 0)
  t.match(records(server.output()).at(-1), { msg: 'stopped' })
})

t.test('not on a terminal, JSON by default: host and database without the password, the scopes without the tokens; 503 schema-not-ready warned once per state', async (t) => {
  const server = await startServer(external)
  t.teardown(() => server.stop('SIGKILL'))
  const banner = await bannerOf(server)
  t.same(banner.banner, {
    ...await servedAt(server.baseUrl),
    database: externalDatabase,
    schema: { state: 'pending', current: [], heads: [shippedHead], pending: shippedRevisions.length },
    auth: { tokenRequired: true, scopes: ['read', 'admin'] },
  })

  const read = { authorization: `Bearer ${secrets.read}` }
  const admin = { authorization: `Bearer ${secrets.admin}`, 'content-type': 'application/json' }
  const notReady = async (count: number): Promise<number[]> => Promise.all(Array.from({ length: count }, async () => (await fetch(`${server.baseUrl}/datasets`, { headers: read })).status))
  const warnings = () => records(server.output()).filter((record) => record.level === 40 && record.msg.includes('schema-not-ready'))

  t.same(new Set(await notReady(30)), new Set([503]), '30 requests at base: 503 each')
  t.equal(warnings().length, 1, 'one warning for them')
  t.match(warnings()[0], { currentRevisions: [], msg: /the database is at base/ })

  t.equal((await fetch(`${server.baseUrl}/migrations/upgrade`, { method: 'POST', headers: admin, body: JSON.stringify({ target: 'head' }) })).status, 200)
  await waitFor(async () => (await fetch(`${server.baseUrl}/datasets`, { headers: read })).status === 200)
  t.equal((await fetch(`${server.baseUrl}/migrations/downgrade`, { method: 'POST', headers: admin, body: JSON.stringify({ target: 'base' }) })).status, 200)
  await waitFor(async () => (await fetch(`${server.baseUrl}/datasets`, { headers: read })).status === 503)
  t.same(new Set(await notReady(20)), new Set([503]), 'back at base: 503 again')
  t.equal(warnings().length, 2, 'one more warning for the new state, none per request')
  t.same(records(server.output()).filter((record) => record.level >= 50), [], 'no error records')

  t.equal(await server.stop('SIGTERM'), 0)
  for (const secret of [password, secrets.read, secrets.admin]) t.notOk(server.output().includes(secret), `${secret} appears nowhere in the log`)
})

t.test('LOG_FORMAT=pretty: lines for a person, the banner one line per item', async (t) => {
  const server = await startServer({ ...external, LOG_FORMAT: 'pretty' })
  t.teardown(() => server.stop('SIGKILL'))
  await waitFor(async () => server.output().includes('stop '), 10_000)
  t.equal(await server.stop('SIGINT'), 0)
  const output = server.output()
  t.same(output.split('\n').filter((line) => line.startsWith('{')), [], 'no JSON')
  assertPrettyBanner(t, output, server.baseUrl)
  t.match(output, /INFO.*: stopped/)
})

t.test('on a terminal (a pseudo-terminal from script(1)), pretty by default; Ctrl+C stops it cleanly', async (t) => {
  const port = await freePort()
  // exec: the service alone in the terminal's foreground, as `node dist/server.js` typed at a prompt.
  const command = `exec ${[process.execPath, serverScript].map((part) => `'${part}'`).join(' ')}`
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), TERM: 'dumb', ...external },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(child, 'exit')
  await waitFor(async () => output.includes('stop '), 30_000)
  child.stdin.write('\x03')
  const [code] = await exited
  t.equal(code, 0, 'Ctrl+C: exit 0')
  const plain = output.replace(/\r/g, '').replace(/\x1b\[[0-9;]*m/g, '') // eslint-disable-line no-control-regex
  t.same(plain.split('\n').filter((line) => line.startsWith('{')), [], 'no JSON')
  assertPrettyBanner(t, plain, `http://127.0.0.1:${port}`)
  t.match(plain, /INFO.*: stopped/)
})

function assertPrettyBanner (t: Test, output: string, baseUrl: string): void {
  const lines = output.split('\n')
  const item = (label: string) => lines.find((line) => line.trimStart().startsWith(`${label} `))?.trim().slice(label.length).trim()
  t.equal(item('url'), baseUrl)
  t.equal(item('docs'), `${baseUrl}/docs`)
  t.equal(item('database'), `${externalDatabase.host}:${externalDatabase.port}/${externalDatabase.database}`)
  t.match(item('schema'), `${shippedRevisions.length} pending: at base, head ${shippedHead}`)
  t.equal(item('token'), 'needed (Authorization: Bearer <token>); scopes configured: read, admin')
  t.equal(item('stop'), stop)
  for (const secret of [password, secrets.read, secrets.admin]) t.notOk(output.includes(secret), `${secret} appears nowhere`)
}
