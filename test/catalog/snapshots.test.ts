import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { diffSchemas } from '../../src/catalog/diff.js'
import { checkDrift } from '../../src/catalog/drift.js'
import { generateSnapshots } from '../../src/catalog/generate.js'
import { defaultSnapshotsDir, readSnapshots, writeSnapshots } from '../../src/catalog/snapshots.js'
import { loadRevisions, RevisionGraph } from '../../src/migrator/index.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'

t.test('the committed snapshots are what the migrations produce today', async (t) => {
  const graph = RevisionGraph.build(await loadRevisions())
  const db = testKnex(t, await createTestDatabase(t, 'snapshots'))
  const generated = await generateSnapshots(db, graph)
  const committed = await readSnapshots(defaultSnapshotsDir)
  // Files come in id order, which is no order of the graph: snapshots pair by revision.
  t.same(committed.map((snapshot) => snapshot.revision).sort(), [null, ...graph.all().map((revision) => revision.revision)].sort(),
    'one snapshot for base and for each revision, and none for a revision that is gone')
  for (const snapshot of generated) {
    const stored = committed.find((candidate) => candidate.revision === snapshot.revision)
    if (stored === undefined) continue
    t.same(diffSchemas(stored, snapshot), [], `${snapshot.revision ?? 'base'}: schema-snapshots/ is current (else run npm run schema:snapshots)`)
  }
})

t.test('on a branched graph each snapshot holds its own ancestry, and the merge both branches', async (t) => {
  const graph = RevisionGraph.build(await loadRevisions(fileURLToPath(new URL('../fixtures/branched-revisions/', import.meta.url))))
  const db = testKnex(t, await createTestDatabase(t, 'snapshots_branched'))
  const dir = await mkdtemp(join(tmpdir(), 'aip-schema-snapshots-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'gone0000000.json'), '{}')
  await writeSnapshots(dir, await generateSnapshots(db, graph))
  t.same((await readdir(dir)).sort(), ['base.json', 'left00000000.json', 'merge0000000.json', 'right0000000.json', 'root00000000.json'],
    'written anew: the snapshot of a revision that no longer exists is gone')

  const byRevision = new Map((await readSnapshots(dir)).map((snapshot) => [snapshot.revision, snapshot]))
  const shape = (revision: string | null) => byRevision.get(revision)?.tables.map((table) =>
    `${table.name}(${table.columns.map((column) => column.name).join(',')}) ${table.indexes.length} indexes`)
  t.same(shape(null), [])
  t.same(shape('root00000000'), ['root(id) 1 indexes'])
  t.same(shape('left00000000'), ['left_side(id,root_id) 1 indexes', 'root(id) 1 indexes'])
  t.same(shape('right0000000'), ['root(id,label) 1 indexes'], 'the right branch, without the left one applied before it')
  t.same(shape('merge0000000'), ['left_side(id,root_id) 2 indexes', 'root(id,label) 1 indexes'])

  t.same(await checkDrift(db, graph, { snapshotsDir: dir }), { revision: 'merge0000000', inSync: true, differences: [], sql: { up: [], down: [] } }, 'the database the generator left is at the merge')
  await db.raw('DROP INDEX ix_left_side_root_id')
  t.match(await checkDrift(db, graph, { snapshotsDir: dir }), { inSync: false, differences: [{ kind: 'missing', object: 'index', name: 'ix_left_side_root_id' }] })
})
