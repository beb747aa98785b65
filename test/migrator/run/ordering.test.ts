import { fileURLToPath } from 'node:url'
import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'

t.test('revisions run in the order of their links, not of their file names', async (t) => {
  const url = await createTestDatabase(t, 'ordering')
  const app = await buildTestApp(t, url, { migrationsDir: fileURLToPath(new URL('../../fixtures/unordered-revisions/', import.meta.url)) })
  const res = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((step: { revision: string }) => step.revision), ['111111111111', '222222222222', '333333333333'])
  const tables = await testKnex(t, url).raw("SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('first', 'second', 'third')")
  t.equal(tables.rows[0].n, 3)
})
