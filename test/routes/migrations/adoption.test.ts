import { readFile } from 'node:fs/promises'
import pg from 'pg'
import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { snapshotCatalog } from '../../helpers/catalog.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'

const head = 'c3d4e5f6g7h8'

/** Exactly what Alembic leaves at head: its pg_dump, plus the one row of `alembic_version`. */
async function prepareAsAlembicLeavesIt (url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(await readFile(new URL('../../fixtures/alembic-schema-at-head.sql', import.meta.url), 'utf8'))
  await client.query('INSERT INTO public.alembic_version (version_num) VALUES ($1)', [head])
  await client.end()
}

t.test('a database Alembic brought to head is adopted as it is', async (t) => {
  const url = await createTestDatabase(t, 'adoption')
  await prepareAsAlembicLeavesIt(url)
  const db = testKnex(t, url)
  const before = await snapshotCatalog(db)
  const app = await buildTestApp(t, url)

  const current = await app.inject({ url: '/migrations/current', headers: bearer('read') })
  t.same(current.json(), { current: [head], heads: [head], upToDate: true, pending: [], ahead: [], breaking: [], interrupted: null })
  t.equal((await db.raw("SELECT to_regclass('knex_migrations') IS NULL AS absent")).rows[0].absent, true, 'reading adopted nothing yet')
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200)

  const upgrade = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(upgrade.statusCode, 200)
  t.same(upgrade.json().steps, [], 'upgrade is a no-op')
  t.same(await snapshotCatalog(db), before, 'the schema is untouched')
  t.same(await db('knex_migrations').orderBy('name').pluck('name'), ['5c1b6116de51', 'a1b2c3d4e5f6', 'b2c3d4e5f6g7', head], "Knex's bookkeeping filled")
  t.equal((await db('aip_schema_revisions').count({ n: '*' }))[0]?.n, '4', 'checksums pinned')

  const down = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: '-2' } })
  t.equal(down.statusCode, 200, 'our downgrades run on the schema Alembic made')
  t.same(await db('alembic_version').pluck('version_num'), ['a1b2c3d4e5f6'])
  const up = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(up.statusCode, 200)
  t.same(await snapshotCatalog(db), before, 'and back to the very same schema')
})
