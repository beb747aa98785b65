import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { seedRevisions, shippedHead as head } from '../../helpers/shipped.js'

const [r1, r2] = seedRevisions

const url = await createTestDatabase(t, 'stamp')
const app = await buildTestApp(t, url)
const db = testKnex(t, url)

async function stamp (body: object, scope: 'migrate' | 'admin') {
  return app.inject({ method: 'POST', url: '/migrations/stamp', headers: bearer(scope), payload: body })
}
async function versionTable () {
  return (await db('alembic_version').select('version_num')).map((row: { version_num: string }) => row.version_num)
}
async function publicTables () {
  return (await db.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('alembic_version', 'knex_migrations', 'knex_migrations_lock', 'aip_schema_revisions', 'aip_schema_revisions_digest', 'aip_schema_operations', 'aip_schema_interrupted', 'aip_schema_operation_steps', 'aip_schema_rollouts', 'aip_schema_rollout_targets', 'aip_schema_replicas', 'aip_schema_archives', 'aip_schema_backfills', 'aip_schema_operation_requests')")).rows
}

t.test('stamp forward writes the version and runs nothing', async (t) => {
  const res = await stamp({ target: r2 }, 'migrate')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { from: [], to: [r2], dryRun: false, steps: [], ahead: [] })
  t.same(await versionTable(), [r2])
  t.same(await publicTables(), [], 'no migration ran')
  t.same(await db('knex_migrations').orderBy('name').pluck('name'), [r1, r2], "Knex's bookkeeping follows")
})

t.test('stamp backwards needs admin', async (t) => {
  const refused = await stamp({ target: r1 }, 'migrate')
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().type, 'stamp-not-allowed')
  t.same(await versionTable(), [r2], 'nothing changed')
  const res = await stamp({ target: r1 }, 'admin')
  t.equal(res.statusCode, 200)
  t.same(await versionTable(), [r1])
  t.same(await db('knex_migrations').pluck('name'), [r1])
})

t.test('stamp heads, then base', async (t) => {
  t.same((await stamp({ target: 'heads' }, 'migrate')).json().to, [head])
  t.same(await versionTable(), [head])
  t.equal((await stamp({ target: 'base' }, 'migrate')).statusCode, 403, 'base is backwards')
  t.same((await stamp({ target: 'base' }, 'admin')).json().to, [])
  t.same(await versionTable(), [])
  t.same(await db('knex_migrations').pluck('name'), [])
})

t.test('a database at an unknown revision: 409 for everything but stamp --purge', async (t) => {
  await db('alembic_version').insert({ version_num: 'deadbeef0000' })
  const upgrade = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('admin'), payload: {} })
  t.equal(upgrade.statusCode, 409)
  t.same(upgrade.json().unknownRevisions, ['deadbeef0000'])
  const plainStamp = await stamp({ target: r1 }, 'admin')
  t.equal(plainStamp.statusCode, 409)
  const purged = await stamp({ target: r1, purge: true }, 'admin')
  t.equal(purged.statusCode, 200)
  t.same(await versionTable(), [r1])
})

t.test('stamp errors', async (t) => {
  t.equal((await stamp({ target: 'nope!' }, 'admin')).statusCode, 400)
  t.equal((await stamp({ target: 'abcdef123456' }, 'admin')).statusCode, 404)
  t.equal((await stamp({}, 'admin')).statusCode, 400)
})
