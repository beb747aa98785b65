import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase } from '../../helpers/database.js'
import { contractRevision, releaseDir } from '../../helpers/releases.js'
import { shippedHead } from '../../helpers/shipped.js'

// A newer release applies a contract revision, then an ordinary one on top: the breaking
// revision is not among the database's heads, and the older release must still see it.
const contract = contractRevision('contract00002', shippedHead)
const ordinary = {
  revision: 'ordinary00003',
  downRevisions: [contract.revision],
  description: 'an ordinary revision on top of it',
  createDate: '2030-01-02T00:00:00.000Z',
  up: ["COMMENT ON TABLE experiments IS 'expanded'"],
  down: ['COMMENT ON TABLE experiments IS NULL'],
}

t.test('a breaking revision under a non-breaking one: the older release turns unready and names it', async (t) => {
  const url = await createTestDatabase(t, 'breaking_under')
  const older = await buildTestApp(t, url, { instance: 'older', dataApi: false })
  const newer = await buildTestApp(t, url, { instance: 'newer', dataApi: false, migrationsDir: await releaseDir(t, { extra: [contract, ordinary] }) })
  const upgrade = await newer.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(upgrade.statusCode, 200, 'the newer release upgraded')
  t.same(upgrade.json().to, [ordinary.revision], 'the database\'s head is the ordinary revision')
  await older.schemaState.refresh()
  const ready = await older.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unready', schema: { current: [ordinary.revision], ahead: [contract.revision, ordinary.revision], breaking: [contract.revision] } })
  t.match((await older.inject({ url: '/migrations/current', headers: bearer('read') })).json(), { breaking: [contract.revision] })
  t.equal((await newer.inject({ url: '/health/ready' })).statusCode, 200, 'the newer release is ready')
})
