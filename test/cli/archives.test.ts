import t from 'tap'
import { runCli as runInProcess } from '../../src/cli/run.js'
import { buildTestApp, tokens } from '../helpers/app.js'
import type { CliRun } from '../helpers/cli.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'

const url = await createTestDatabase(t, 'cli_archives')
const db = testKnex(t, url)
const app = await buildTestApp(t, url)
const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })

/** The command line in this process: against the database, or through the service with `--url`. */
async function cli (args: readonly string[], through: 'database' | 'service' = 'database'): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const env = through === 'database' ? { DATABASE_URL: url } : { AIP_SCHEMA_TOKEN: tokens.admin }
  const code = await runInProcess(through === 'database' ? args : [...args, '--url', baseUrl], env, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: (text: string) => { stderr += text } } })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

t.test('archives lists what a downgrade dropped; restore puts it back, or into a new table', async (t) => {
  t.equal((await cli(['upgrade', 'c3d4e5f6g7h8'])).code, 0)
  await db.raw(`WITH u AS (INSERT INTO users (email, username, hashed_password) VALUES ('c@example.com', 'c', 'x') RETURNING id),
    d AS (INSERT INTO datasets (user_id, name, file_path) SELECT id, 'd', '/d' FROM u RETURNING id)
    INSERT INTO preprocessing_steps (dataset_id, step_type, "order", fitted_transformer) SELECT d.id, 'scale', i, decode(md5(i::text), 'hex') FROM d, generate_series(1, 3) AS i`)
  t.equal((await cli(['archives'])).stdout, 'No archives.\n')
  t.equal((await cli(['downgrade', '-1'])).code, 0)

  const listed = await cli(['archives', '--json'])
  t.equal(listed.code, 0, listed.stderr)
  const [archive] = listed.json().archives
  t.match(archive, { kind: 'drop-column', table: 'preprocessing_steps', rows: 3, revision: 'c3d4e5f6g7h8', direction: 'down' })
  const text = await cli(['archives'], 'service')
  t.match(text.stdout, new RegExp(`^${String(archive.id)}  drop-column preprocessing_steps\\(fitted_transformer, is_active\\) by c3d4e5f6g7h8 down: 3 rows, \\d+ bytes, expires `), 'through the service too')

  const drift = await app.inject({ method: 'GET', url: '/schema/drift', headers: { authorization: `Bearer ${tokens.read}` } })
  t.equal(drift.statusCode, 200, drift.body)
  t.equal(drift.json().inSync, true, 'drift does not see the archive schema or its bookkeeping')
  const schema = (await app.inject({ method: 'GET', url: '/schema', headers: { authorization: `Bearer ${tokens.read}` } })).json()
  t.match(schema.tables.find((table: { name: string }) => table.name === 'aip_schema_archives'), { bookkeeping: true }, '/schema marks the archive bookkeeping')
  t.notOk(schema.tables.some((table: { name: string }) => table.name.startsWith('archive_')), 'the archived data is not part of the schema')

  const refused = await cli(['restore', String(archive.id)])
  t.equal(refused.code, 1, 'the live table lacks the columns')
  t.match(refused.stderr, /lacks columns/)
  const copied = await cli(['restore', String(archive.id), '--into', 'transformers_kept'], 'service')
  t.equal(copied.code, 0, copied.stderr)
  t.equal(copied.stdout, `Restored 3 rows from archive ${String(archive.id)} into transformers_kept.\n`)
  t.equal(Number((await db.raw('SELECT count(fitted_transformer) FROM transformers_kept')).rows[0].count), 3)

  t.equal((await cli(['restore', 'twelve'])).code, 2, 'an id that is no number is bad usage')
  t.equal((await cli(['restore', '424242'])).code, 1, 'an unknown archive')
})
