import { readFile } from 'node:fs/promises'
import pg from 'pg'
import t, { type Test } from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { snapshotCatalog } from '../../helpers/catalog.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { afterSeed, seedRevisions, shippedHead as head, shippedRevisions } from '../../helpers/shipped.js'

// The fixture is Alembic's own work on the seed: it knows no revision after the seed's last.
const seedHead = seedRevisions[3]

/** Exactly what Alembic leaves at the seed's head: its pg_dump, plus the one row of `alembic_version`. */
async function prepareAsAlembicLeavesIt (url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(await readFile(new URL('../../fixtures/alembic-schema-at-head.sql', import.meta.url), 'utf8'))
  await client.query('INSERT INTO public.alembic_version (version_num) VALUES ($1)', [seedHead])
  await client.end()
}

/** The schema this engine gives a new database at head: what the adopted one must end up as. */
async function engineSchemaAtHead (t: Test) {
  const url = await createTestDatabase(t, 'adoption_reference')
  const app = await buildTestApp(t, url)
  const upgrade = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  if (upgrade.statusCode !== 200) throw new Error(`upgrade failed: ${upgrade.body}`)
  return snapshotCatalog(testKnex(t, url))
}

t.test("a database Alembic brought to the seed's head is adopted as it is, then upgraded to head", async (t) => {
  const url = await createTestDatabase(t, 'adoption')
  await prepareAsAlembicLeavesIt(url)
  const db = testKnex(t, url)
  const asAlembicLeftIt = await snapshotCatalog(db)
  const app = await buildTestApp(t, url)

  const current = await app.inject({ url: '/migrations/current', headers: bearer('read') })
  t.same(current.json(), { current: [seedHead], heads: [head], upToDate: false, pending: afterSeed, ahead: [], breaking: [], interrupted: null })
  t.equal((await db.raw("SELECT to_regclass('knex_migrations') IS NULL AS absent")).rows[0].absent, true, 'reading adopted nothing yet')
  t.same((await app.inject({ url: '/schema/drift', headers: bearer('read') })).json(), { revision: seedHead, inSync: true, differences: [], sql: { up: [], down: [] } }, 'in sync with its revision')
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 503, 'not ready: this code has revisions to apply')

  const upgrade = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(upgrade.statusCode, 200)
  t.same(upgrade.json().steps.map((step: { revision: string }) => step.revision), afterSeed, 'only the revisions Alembic never ran')
  t.same(await db('alembic_version').pluck('version_num'), [head])
  t.same(await db('knex_migrations').orderBy('name').pluck('name'), [...shippedRevisions].sort(), "Knex's bookkeeping filled")
  t.equal(Number((await db('aip_schema_revisions').count({ n: '*' }))[0]?.n), shippedRevisions.length, 'checksums pinned')
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200)
  t.same((await app.inject({ url: '/schema/drift', headers: bearer('read') })).json(), { revision: head, inSync: true, differences: [], sql: { up: [], down: [] } })
  const atHead = await snapshotCatalog(db)
  t.same(atHead, await engineSchemaAtHead(t), 'the very schema this engine gives a new database at head')
  for (const [name, table] of Object.entries(asAlembicLeftIt.tables)) {
    // Later revisions may add columns and constraints; none of Alembic's may change or go.
    const columnsAtHead = atHead.tables[name]?.columns ?? []
    const constraintsAtHead = atHead.tables[name]?.constraints ?? []
    t.same(table.columns.filter((column) => !columnsAtHead.includes(column)), [], `${name}: the columns Alembic made are untouched`)
    t.same(table.constraints.filter((constraint) => !constraintsAtHead.includes(constraint)), [], `${name}: so are its constraints`)
  }

  const down = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: seedRevisions[1] } })
  t.equal(down.statusCode, 200, 'our downgrades run on the schema Alembic made')
  t.same(await db('alembic_version').pluck('version_num'), [seedRevisions[1]])
  const up = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(up.statusCode, 200)
  t.same(await snapshotCatalog(db), atHead, 'and back to the very same schema')
})
