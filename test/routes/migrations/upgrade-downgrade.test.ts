import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { afterSeed, belowShippedHead as beforeHead, seedRevisions, shippedHead as head, shippedRevisions } from '../../helpers/shipped.js'

const [r1, r2, r3, r4] = seedRevisions

const url = await createTestDatabase(t, 'upgrade')
const app = await buildTestApp(t, url)
const db = testKnex(t, url)

async function post (path: string, body: object, scope: 'migrate' | 'admin' = 'admin') {
  return app.inject({ method: 'POST', url: path, headers: bearer(scope), payload: body })
}
async function current () {
  return (await app.inject({ url: '/migrations/current', headers: bearer('read') })).json()
}
async function versionTable () {
  return (await db('alembic_version').select('version_num')).map((row: { version_num: string }) => row.version_num)
}

t.test('at base: nothing applied, everything pending, GETs create nothing', async (t) => {
  t.same(await current(), { current: [], heads: [head], upToDate: false, pending: shippedRevisions, ahead: [], breaking: [], interrupted: null })
  const history = (await app.inject({ url: '/migrations/history', headers: bearer('read') })).json()
  t.same(history.revisions.map((r: { revision: string }) => r.revision), [...shippedRevisions].reverse())
  t.ok(history.revisions.every((r: { applied: boolean }) => !r.applied))
  const tables = await db.raw("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")
  t.equal(tables.rows[0].n, 0, 'reading the state created no table')
})

t.test('upgrade +1 from base applies the first revision only', async (t) => {
  const res = await post('/migrations/upgrade', { target: '+1' }, 'migrate')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same(body.from, [])
  t.same(body.to, [r1])
  t.equal(body.dryRun, false)
  t.same(body.steps.map((s: { revision: string, direction: string }) => [s.revision, s.direction]), [[r1, 'up']])
  t.ok(body.steps[0].sql.some((sql: string) => sql.startsWith('CREATE TABLE users')))
  t.same(await versionTable(), [r1])
  const knexRows = await db('knex_migrations').pluck('name')
  t.same(knexRows, [r1], "Knex's bookkeeping agrees")
})

t.test('upgrade to a unique prefix', async (t) => {
  const res = await post('/migrations/upgrade', { target: 'a1b' }, 'migrate')
  t.equal(res.statusCode, 200)
  t.same(res.json().to, [r2])
  t.same(await versionTable(), [r2])
})

t.test('upgrade with no body goes to head', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate') })
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((s: { revision: string }) => s.revision), [r3, r4, ...afterSeed])
  t.same(await current(), { current: [head], heads: [head], upToDate: true, pending: [], ahead: [], breaking: [], interrupted: null })
})

t.test('upgrade head at head is a 200 with no steps', async (t) => {
  const res = await post('/migrations/upgrade', { target: 'head' }, 'migrate')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { from: [head], to: [head], dryRun: false, steps: [], ahead: [] })
})

t.test('history at head marks every revision applied with a time', async (t) => {
  const { revisions } = (await app.inject({ url: '/migrations/history', headers: bearer('read') })).json()
  t.equal(revisions.length, shippedRevisions.length)
  t.ok(revisions[0].isHead)
  t.same(revisions[0].downRevisions, [beforeHead])
  t.ok(revisions.every((r: { applied: boolean, appliedAt: string | null }) => r.applied && r.appliedAt !== null))
})

t.test('downgrade -1, then to a revision, then to base', async (t) => {
  let res = await post('/migrations/downgrade', { target: '-1' })
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((s: { revision: string, direction: string }) => [s.revision, s.direction]), [[head, 'down']])
  t.same(await versionTable(), [beforeHead])

  res = await post('/migrations/downgrade', { target: r3 })
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((s: { revision: string }) => s.revision), [...afterSeed].reverse().slice(1).concat(r4))
  t.same(await versionTable(), [r3])
  const columns = await db.raw("SELECT column_name FROM information_schema.columns WHERE table_name = 'preprocessing_steps' AND column_name = 'is_active'")
  t.equal(columns.rows.length, 0, 'the column went with its revision')

  res = await post('/migrations/downgrade', { target: r1 })
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((s: { revision: string }) => s.revision), [r3, r2])
  t.same(await versionTable(), [r1])

  res = await post('/migrations/downgrade', { target: 'base' })
  t.equal(res.statusCode, 200)
  t.same(res.json().to, [])
  t.same(await versionTable(), [])
  t.same(await db('knex_migrations').pluck('name'), [])
})

t.test('bad targets', async (t) => {
  const cases: Array<[string, string, object, number, string]> = [
    ['syntax, refused by the schema\'s pattern', '/migrations/upgrade', { target: '++1' }, 400, 'validation-failed'],
    ['unknown revision', '/migrations/upgrade', { target: 'ffffffffffff' }, 404, 'unknown-revision'],
    ['walks off the graph', '/migrations/upgrade', { target: '+9' }, 400, 'invalid-target'],
    ['downgrade below base', '/migrations/downgrade', { target: '-1' }, 400, 'invalid-target'],
    ['downgrade to an unapplied revision', '/migrations/downgrade', { target: r3 }, 400, 'wrong-direction'],
    ['upgrade by a step back', '/migrations/upgrade', { target: '-1' }, 400, 'wrong-direction'],
    ['no target for downgrade', '/migrations/downgrade', {}, 400, 'validation-failed'],
    ['unknown field', '/migrations/upgrade', { target: 'head', force: true }, 400, 'validation-failed'],
    ['wrong type', '/migrations/upgrade', { target: 12 }, 400, 'validation-failed'],
  ]
  for (const [name, path, body, status, type] of cases) {
    const res = await post(path, body)
    t.equal(res.statusCode, status, name)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${name}: problem+json`)
    t.equal(res.json().type, type, `${name}: type`)
  }
  await post('/migrations/upgrade', { target: 'head' }, 'migrate')
  // As in Alembic: already applied, so nothing to do.
  const upToAncestor = await post('/migrations/upgrade', { target: r2 })
  t.equal(upToAncestor.statusCode, 200)
  t.same(upToAncestor.json().steps, [])
  const upToBase = await post('/migrations/upgrade', { target: 'base' })
  t.equal(upToBase.statusCode, 200)
  t.same(upToBase.json().steps, [])
  // Alembic refuses a negative step on upgrade: it is a downgrade, never a silent no-op.
  const stepBack = await post('/migrations/upgrade', { target: '-2' })
  t.equal(stepBack.statusCode, 400, 'upgrade -2 at head')
  t.match(stepBack.json(), { type: 'wrong-direction', detail: /downgrade instead/ })
  const missingField = (await post('/migrations/downgrade', {})).json()
  t.equal(missingField.field, 'body.target', 'the failing field is named')
})

t.test('show a revision by prefix; unknown 404; malformed 400', async (t) => {
  const res = await app.inject({ url: '/migrations/revisions/b2c', headers: bearer('read') })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { revision: r3, downRevisions: [r2], description: 'add status metadata to model runs', transactional: false })
  t.equal((await app.inject({ url: '/migrations/revisions/zzzz', headers: bearer('read') })).statusCode, 404)
})

t.test('dry run leaves the schema untouched and returns the SQL', async (t) => {
  await post('/migrations/downgrade', { target: r2 })
  const before = await versionTable()
  const res = await post('/migrations/upgrade', { target: 'head', dryRun: true }, 'migrate')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.dryRun, true)
  t.same(body.to, [head])
  t.same(body.steps.map((s: { revision: string }) => s.revision), [r3, r4, ...afterSeed])
  t.ok(body.steps[0].sql.some((sql: string) => sql.includes('ADD COLUMN IF NOT EXISTS status')))
  t.same(await versionTable(), before, 'version unchanged')
  const columns = await db.raw("SELECT column_name FROM information_schema.columns WHERE table_name = 'model_runs' AND column_name = 'status'")
  t.equal(columns.rows.length, 0, 'schema unchanged')
  t.same(await db('aip_schema_revisions').orderBy('revision').pluck('revision'), [r1, r2], 'checksums unchanged')
})

t.test('async upgrade answers 202 and the operation reaches succeeded', async (t) => {
  const res = await post('/migrations/upgrade', { target: 'head', async: true }, 'migrate')
  t.equal(res.statusCode, 202)
  const operation = res.json()
  t.equal(res.headers.location, `/migrations/operations/${operation.id}`)
  t.match(operation.status, /^(queued|running)$/)
  let polled = operation
  for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(polled.status); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    polled = (await app.inject({ url: `/migrations/operations/${operation.id}`, headers: bearer('read') })).json()
  }
  t.equal(polled.status, 'succeeded')
  t.same(polled.from, [r2])
  t.same(polled.to, [head])
  t.same(polled.steps.map((s: { revision: string }) => s.revision), [r3, r4, ...afterSeed])
  t.equal(polled.actor, 'migrate')
  t.same(await versionTable(), [head])
})

t.test('the audit log lists every operation, newest first', async (t) => {
  const res = await app.inject({ url: '/migrations/operations?limit=3', headers: bearer('read') })
  t.equal(res.statusCode, 200)
  const { operations } = res.json()
  t.equal(operations.length, 3)
  t.match(operations[0], { kind: 'upgrade', status: 'succeeded', target: 'head' })
  t.match(operations[1], { kind: 'upgrade', dryRun: true, status: 'succeeded' })
  const missing = await app.inject({ url: '/migrations/operations/00000000-0000-4000-8000-000000000000', headers: bearer('read') })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().type, 'operation-not-found')
  t.equal((await app.inject({ url: '/migrations/operations/not-a-uuid', headers: bearer('read') })).statusCode, 400)
  t.equal((await app.inject({ url: '/migrations/operations?limit=0', headers: bearer('read') })).statusCode, 400)
})
