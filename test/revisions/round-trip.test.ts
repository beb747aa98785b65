import { readFile } from 'node:fs/promises'
import pg from 'pg'
import t from 'tap'
import { bearer, buildTestApp } from '../helpers/app.js'
import { snapshotCatalog } from '../helpers/catalog.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { seedRevisions, shippedHead, shippedRevisions } from '../helpers/shipped.js'

const seedHead = seedRevisions[3]

const url = await createTestDatabase(t, 'revisions')
const app = await buildTestApp(t, url)
const db = testKnex(t, url)

async function migrate (verb: 'upgrade' | 'downgrade', target: string) {
  const res = await app.inject({ method: 'POST', url: `/migrations/${verb}`, headers: bearer('admin'), payload: { target } })
  t.equal(res.statusCode, 200, `${verb} ${target}`)
  return res.json()
}
async function versionTable () {
  return (await db('alembic_version').select('version_num')).map((row: { version_num: string }) => row.version_num)
}

t.test('each down restores exactly the catalog from before its up', async (t) => {
  for (const revision of shippedRevisions) {
    const before = await snapshotCatalog(db)
    await migrate('upgrade', '+1')
    t.same(await versionTable(), [revision])
    const after = await snapshotCatalog(db)
    t.notSame(after, before, `${revision} changes the schema`)
    await migrate('downgrade', '-1')
    t.same(await snapshotCatalog(db), before, `${revision} down restores the catalog`)
    await migrate('upgrade', '+1')
    t.same(await snapshotCatalog(db), after, `${revision} up again gives the same catalog`)
  }
})

t.test("at the seed's head the schema is exactly the one Alembic produces from the seed", async (t) => {
  t.same(await versionTable(), [shippedHead])
  await migrate('downgrade', seedHead)
  t.teardown(() => migrate('upgrade', 'head'))
  const referenceUrl = await createTestDatabase(t, 'alembic_reference')
  const client = new pg.Client({ connectionString: referenceUrl })
  await client.connect()
  await client.query(await readFile(new URL('../fixtures/alembic-schema-at-head.sql', import.meta.url), 'utf8'))
  await client.end()
  const reference = await snapshotCatalog(testKnex(t, referenceUrl))
  const ours = await snapshotCatalog(db)
  t.same(Object.keys(ours.tables).sort(), Object.keys(reference.tables).sort())
  t.same(ours, reference)
  t.match(ours.tables.model_runs?.constraints, [/ck_model_runs_status CHECK/])
  t.ok(ours.tables.model_runs?.columns.includes('metadata jsonb'))
  t.ok(ours.tables.preprocessing_steps?.columns.includes('fitted_transformer bytea'))
})

t.test('round trip base → head → base → head leaves no residue', async (t) => {
  const atHead = await snapshotCatalog(db)
  await migrate('downgrade', 'base')
  t.same(await versionTable(), [])
  t.same(await snapshotCatalog(db), { tables: {} }, 'nothing of the application is left at base')
  await migrate('upgrade', 'head')
  t.same(await snapshotCatalog(db), atHead)
  t.same(await versionTable(), [shippedHead])
})
