import t from 'tap'
import type { RevisionDefinition } from '../../../src/migrator/index.js'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { lineRevision, revisionsDir } from '../../helpers/synthetic-revisions.js'

const definitions: RevisionDefinition[] = [
  lineRevision(1, ['CREATE TABLE scores (id int PRIMARY KEY, score numeric, label text)', "INSERT INTO scores SELECT i, i * 1.5, 'l' || i FROM generate_series(1, 30) AS i"], ['DROP TABLE scores']),
  lineRevision(2, ['UPDATE scores SET score = 0 WHERE id % 3 = 0'], []),
]
const url = await createTestDatabase(t, 'archive_routes')
const knex = testKnex(t, url)
const app = await buildTestApp(t, url, { migrationsDir: await revisionsDir(t, definitions) })

t.test('a data UPDATE archives the prior values; restore (admin) puts them back, delete drops the archive', async (t) => {
  const before = (await knex.raw('SELECT id, score::text FROM scores ORDER BY id').catch(() => ({ rows: [] }))).rows
  t.same(before, [], 'nothing yet')
  const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 's00000000001' } })
  t.equal(upgraded.statusCode, 200)
  const prior = (await knex.raw('SELECT id, score::text FROM scores ORDER BY id')).rows
  t.equal((await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: {} })).statusCode, 200)

  const listed = await app.inject({ method: 'GET', url: '/migrations/archives', headers: bearer('read') })
  t.equal(listed.statusCode, 200)
  const archives = listed.json().archives as Array<Record<string, unknown>>
  t.equal(archives.length, 1)
  const archive = archives[0]!
  t.match(archive, { kind: 'update', table: 'scores', columns: ['score'], rows: 10, revision: 's00000000002', direction: 'up', restoredAt: null })
  t.type(archive.operationId, 'string', 'the operation that archived it')
  t.notOk('keyColumns' in archive, 'the contract fields only')

  t.equal((await app.inject({ method: 'GET', url: '/migrations/archives' })).statusCode, 401, 'a token is needed to read')
  const notAdmin = await app.inject({ method: 'POST', url: `/migrations/archives/${String(archive.id)}/restore`, headers: bearer('migrate'), payload: {} })
  t.equal(notAdmin.statusCode, 403, 'restoring needs admin')

  const restored = await app.inject({ method: 'POST', url: `/migrations/archives/${String(archive.id)}/restore`, headers: bearer('admin') })
  t.equal(restored.statusCode, 200, restored.body)
  t.same(restored.json(), { restoredRows: 10 })
  t.same((await knex.raw('SELECT id, score::text FROM scores ORDER BY id')).rows, prior, 'every prior value is back')
  const after = (await app.inject({ method: 'GET', url: '/migrations/archives', headers: bearer('read') })).json().archives[0]
  t.type(after.restoredAt, 'string', 'marked restored')

  const copy = await app.inject({ method: 'POST', url: `/migrations/archives/${String(archive.id)}/restore`, headers: bearer('admin'), payload: { into: 'scores_before' } })
  t.same(copy.json(), { restoredRows: 10 }, 'into a new table')
  const again = await app.inject({ method: 'POST', url: `/migrations/archives/${String(archive.id)}/restore`, headers: bearer('admin'), payload: { into: 'scores_before' } })
  t.equal(again.statusCode, 409, 'not over a table that exists')
  t.equal(again.headers['content-type'], 'application/problem+json; charset=utf-8')
  const injected = await app.inject({ method: 'POST', url: `/migrations/archives/${String(archive.id)}/restore`, headers: bearer('admin'), payload: { into: 'x"; DROP TABLE scores; --' } })
  t.equal(injected.statusCode, 400, 'a table name is a plain identifier')
  await knex.raw('ALTER TABLE scores DROP COLUMN score')
  const missing = await app.inject({ method: 'POST', url: `/migrations/archives/${String(archive.id)}/restore`, headers: bearer('admin') })
  t.equal(missing.statusCode, 409, 'the live table lacks the column')
  t.match(missing.json(), { detail: /lacks column score/ })

  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /aip_schema_archives 1\n[\s\S]*aip_schema_archive_bytes [1-9]/)

  t.equal((await app.inject({ method: 'DELETE', url: `/migrations/archives/${String(archive.id)}`, headers: bearer('admin') })).statusCode, 204)
  const gone = await app.inject({ method: 'DELETE', url: `/migrations/archives/${String(archive.id)}`, headers: bearer('admin') })
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().type.endsWith('archive-not-found'), true, gone.body)
  t.equal((await app.inject({ method: 'POST', url: '/migrations/archives/12345/restore', headers: bearer('admin') })).statusCode, 404, 'unknown archive')
  t.equal((await app.inject({ method: 'DELETE', url: '/migrations/archives/nope', headers: bearer('admin') })).statusCode, 400)
})

t.test('the service drops archives past ARCHIVE_RETENTION_DAYS when it starts, then on an interval', async (t) => {
  const { rows } = await knex.raw(`INSERT INTO aip_schema_archives (kind, schema_name, table_name, columns, key_columns, rows, bytes, expires_at)
    VALUES ('delete', 'public', 'scores', NULL, '["id"]', 1, 8192, now() - interval '1 minute') RETURNING id`)
  const id = Number(rows[0].id)
  await knex.raw(`CREATE TABLE aip_schema_archive.archive_${id} AS SELECT * FROM scores LIMIT 1`)
  const started = await buildTestApp(t, url, { migrationsDir: await revisionsDir(t, definitions) })
  await started.ready()
  const deadline = Date.now() + 10_000
  let listed: Array<{ id: number }> = []
  do {
    listed = (await started.inject({ method: 'GET', url: '/migrations/archives', headers: bearer('read') })).json().archives
    if (!listed.some((archive) => archive.id === id)) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  } while (Date.now() < deadline)
  t.notOk(listed.some((archive) => archive.id === id), 'the expired archive is gone')
  t.equal((await knex.raw('SELECT to_regclass(?) AS t', [`aip_schema_archive.archive_${id}`])).rows[0].t, null, 'with its table')
})
