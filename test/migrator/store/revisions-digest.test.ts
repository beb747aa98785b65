import t from 'tap'
import { pinnedDigest } from '../../../src/migrator/index.js'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { statementsDuring } from '../../helpers/statements.js'
import { syntheticRevisionsDir } from '../../helpers/synthetic-revisions.js'

const url = await createTestDatabase(t, 'revisions_digest')
const migrationsDir = await syntheticRevisionsDir(t, 4)
const db = testKnex(t, url)

const upgrade = (app: Awaited<ReturnType<typeof buildTestApp>>) =>
  app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
const checksums = (app: Awaited<ReturnType<typeof buildTestApp>>) =>
  Object.fromEntries(app.migrator.graph.all().map((revision) => [revision.revision, revision.checksum]))
/** The digest row as hex, as the code computes it. */
async function storedDigest (): Promise<string | undefined> {
  const bits = (await db.raw('SELECT digest::text AS bits FROM aip_schema_revisions_digest')).rows[0]?.bits as string | undefined
  return bits === undefined ? undefined : BigInt(`0b${bits}`).toString(16).padStart(64, '0')
}
/** Whether an upgrade at head took the one-statement path. */
async function oneStatement (app: Awaited<ReturnType<typeof buildTestApp>>): Promise<boolean> {
  let status = 0
  const sent = await statementsDuring(async () => { status = (await upgrade(app)).statusCode })
  return status === 200 && sent.length === 1
}

const first = await buildTestApp(t, url, { migrationsDir })
t.equal((await upgrade(first)).statusCode, 200)

t.test('the trigger keeps the row equal to the digest the code computes', async (t) => {
  t.equal(await storedDigest(), pinnedDigest(checksums(first)))
  t.ok(await oneStatement(first), 'the no-op takes its one statement')
})

t.test('bookkeeping older than the digest: made and summed from the pinned rows at the next start', async (t) => {
  await db.raw('DROP TRIGGER aip_schema_revisions_digest ON aip_schema_revisions; DROP TABLE aip_schema_revisions_digest')
  const next = await buildTestApp(t, url, { migrationsDir, instance: 'next' })
  t.equal((await upgrade(next)).statusCode, 200, 'the full path, which makes it')
  t.equal(await storedDigest(), pinnedDigest(checksums(next)), 'summed from the rows already there')
  t.ok(await oneStatement(next), 'then the no-op takes its one statement')
})

t.test('rows emptied by TRUNCATE: no no-op until the full path pins them again', async (t) => {
  await db.raw('TRUNCATE aip_schema_revisions')
  t.equal(await storedDigest(), '0'.repeat(64), 'the digest of nothing')
  t.notOk(await oneStatement(first), 'not a no-op: the full path')
  t.equal(Number((await db('aip_schema_revisions').count({ n: '*' }))[0]?.n), 4, 'which pins them again')
  t.equal(await storedDigest(), pinnedDigest(checksums(first)))
  t.ok(await oneStatement(first), 'and the no-op is back')
})
