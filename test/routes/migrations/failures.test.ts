import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'

t.test('a failing migration answers 500 naming it and stays at the last good revision', async (t) => {
  const url = await createTestDatabase(t, 'failing')
  const app = await buildTestApp(t, url, { migrationsDir: fileURLToPath(new URL('../../fixtures/failing-revisions/', import.meta.url)) })
  const db = testKnex(t, url)
  const res = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(res.statusCode, 500)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.match(res.json(), { type: 'migration-failed', revision: 'bbbbbbbbbbbb', code: '22012', direction: 'up' })
  t.match(res.json().detail, /division by zero/)
  t.same(await db('alembic_version').pluck('version_num'), ['aaaaaaaaaaaa'], 'at the last good revision')
  const halfDone = await db.raw("SELECT to_regclass('half_done') IS NULL AS gone")
  t.equal(halfDone.rows[0].gone, true, 'no trace of the failed revision')
  t.same(await db('knex_migrations').pluck('name'), ['aaaaaaaaaaaa'])

  const { operations } = (await app.inject({ url: '/migrations/operations', headers: bearer('read') })).json()
  t.match(operations[0], {
    kind: 'upgrade',
    status: 'failed',
    from: [],
    error: { kind: 'migration-failed', revision: 'bbbbbbbbbbbb', code: '22012' },
  })
  t.same(operations[0].steps.map((step: { revision: string }) => step.revision), ['aaaaaaaaaaaa'], 'the step that completed is recorded')
  t.not(operations[0].finishedAt, null)
})

t.test('an applied revision whose SQL changed stops everything with 409', async (t) => {
  const url = await createTestDatabase(t, 'checksum')
  const dir = await mkdtemp(join(tmpdir(), 'aip-revisions-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeRevisions(dir, 'int')
  const first = await buildTestApp(t, url, { migrationsDir: dir })
  t.equal((await first.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: '+2' } })).statusCode, 200)
  await first.close()

  // A module imported once stays cached: the changed revisions live in a directory of their own.
  const changedDir = await mkdtemp(join(tmpdir(), 'aip-revisions-changed-'))
  t.teardown(() => rm(changedDir, { recursive: true, force: true }))
  await writeRevisions(changedDir, 'bigint')
  const changed = await buildTestApp(t, url, { migrationsDir: changedDir })
  const res = await changed.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { type: 'database-state-mismatch', checksumMismatches: ['111111111111'], unknownRevisions: [] })
  t.same(await testKnex(t, url)('alembic_version').pluck('version_num'), ['222222222222'], 'nothing ran')
  const down = await changed.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: 'base' } })
  t.equal(down.statusCode, 409)
})

async function writeRevisions (dir: string, firstIdType: string): Promise<void> {
  await writeFile(join(dir, 'first.mjs'), revisionModule('111111111111', [], `CREATE TABLE first (id ${firstIdType} PRIMARY KEY)`))
  await writeFile(join(dir, 'second.mjs'), revisionModule('222222222222', ['111111111111'], 'CREATE TABLE second (id int PRIMARY KEY)'))
  await writeFile(join(dir, 'third.mjs'), revisionModule('333333333333', ['222222222222'], 'CREATE TABLE third (id int PRIMARY KEY)'))
}

function revisionModule (id: string, down: string[], up: string): string {
  const table = /CREATE TABLE (\w+)/.exec(up)?.[1] ?? 'x'
  return `export default ${JSON.stringify({ revision: id, downRevisions: down, description: id, createDate: '2025-01-01T00:00:00.000Z', up: [up], down: [`DROP TABLE ${table}`] })}\n`
}
