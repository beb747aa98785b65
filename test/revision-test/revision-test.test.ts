import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import t from 'tap'
import { generateSnapshots } from '../../src/catalog/generate.js'
import { writeSnapshots } from '../../src/catalog/snapshots.js'
import { loadRevisions, RevisionGraph } from '../../src/migrator/index.js'
import { RevisionTestError, testRevisions, type RevisionResult } from '../../src/revision-test/index.js'
import { createTestDatabase, serverUrl, testKnex } from '../helpers/database.js'

// The module without the command line: a branched graph with a merge, from the suite's own fixture.
const migrationsDir = fileURLToPath(new URL('../fixtures/branched-revisions/', import.meta.url))
const databaseUrl = await createTestDatabase(t, 'revision_test_module')
const snapshotsDir = await mkdtemp(join(tmpdir(), 'aip-revision-test-branched-'))
const scratchPurpose = 'revision_module'
t.teardown(() => rm(snapshotsDir, { recursive: true, force: true }))
await writeSnapshots(snapshotsDir, await generateSnapshots(testKnex(t, databaseUrl), RevisionGraph.build(await loadRevisions(migrationsDir))))

async function scratchDatabases (): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'aip\\_schema\\_revision\\_module\\_%'")).rows.map((row) => row.datname)
  } finally {
    await client.end()
  }
}

t.test('each branch from its own ancestry, the merge down to both parents, with rows throughout', async (t) => {
  const told: RevisionResult[] = []
  const notes: string[] = []
  const report = await testRevisions({ serverUrl: databaseUrl, scratchPurpose, migrationsDir, snapshotsDir, onRevision: (result) => told.push(result), onNote: (note) => notes.push(note) })
  t.equal(report.ok, true, JSON.stringify(report.revisions, null, 2))
  t.same(report.heads, ['merge0000000'])
  t.same(report.revisions.map((result) => result.revision), ['root00000000', 'left00000000', 'right0000000', 'merge0000000'])
  t.same(told, report.revisions, 'each result is told as its revision is done')
  t.same(notes, [], 'every table got its rows: the check on label, the key to root')
  t.same(await scratchDatabases(), [])
})

t.test('an aborted run drops its scratch database and rejects as interrupted', async (t) => {
  const controller = new AbortController()
  const run = testRevisions({ serverUrl: databaseUrl, scratchPurpose, migrationsDir, snapshotsDir, signal: controller.signal, onRevision: () => controller.abort() })
  await t.rejects(run, new RevisionTestError('interrupted', 'interrupted: the scratch database was dropped'))
  t.same(await scratchDatabases(), [])
})

t.test('bounds that name no revision, or select none, are refused before a database is made', async (t) => {
  await t.rejects(testRevisions({ serverUrl: databaseUrl, scratchPurpose, migrationsDir, snapshotsDir, from: 'nothing' }), { kind: 'bad-bounds', message: /^--from: / })
  await t.rejects(testRevisions({ serverUrl: databaseUrl, scratchPurpose, migrationsDir, snapshotsDir, from: 'merge', to: 'left' }), { kind: 'bad-bounds', message: /no revision is both at or after merge and at or before left/ })
  const report = await testRevisions({ serverUrl: databaseUrl, scratchPurpose, migrationsDir, snapshotsDir, from: 'right', to: 'right' })
  t.same(report.revisions.map((result) => result.revision), ['right0000000'], 'a prefix names a revision; a branch alone is tested')
  t.same(await scratchDatabases(), [])
})
