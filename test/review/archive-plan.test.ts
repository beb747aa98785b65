import t from 'tap'
import { RevisionGraph } from '../../src/migrator/index.js'
import { buildPlan } from '../../src/review/plan-builder.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { rev } from '../helpers/revisions.js'

const url = await createTestDatabase(t, 'archive_plan')
const db = testKnex(t, url)
await db.raw("CREATE TABLE runs (id bigint PRIMARY KEY, metrics jsonb, note text); INSERT INTO runs SELECT g, jsonb_build_object('loss', g), 'n' FROM generate_series(1, 5000) g")
await db.raw('CREATE TABLE cache (k text); INSERT INTO cache SELECT g::text FROM generate_series(1, 100) g')
await db.raw('VACUUM ANALYZE runs, cache')

t.test('each step lists what it archives, estimated from the catalog; above ARCHIVE_MAX_BYTES it is a finding', async (t) => {
  const graph = RevisionGraph.build([rev('a0a0a0a0a0a0', [], {
    up: ['ALTER TABLE runs DROP COLUMN metrics', 'TRUNCATE cache', 'CREATE INDEX ix_runs_note ON runs (note)'],
    down: [],
  })])
  const plan = await buildPlan(db, graph, { target: 'head', direction: 'upgrade', requestedBy: 'test' }, 100_000, 50_000)
  const step = plan.steps[0]!
  t.equal(step.archives.length, 2)
  t.match(step.archives[0], { table: 'runs', columns: ['metrics'], estimatedRows: 5000 })
  t.ok(step.archives[0]!.estimatedBytes > 50_000, `runs' id and metrics: ${step.archives[0]!.estimatedBytes} bytes`)
  t.match(step.archives[1], { table: 'cache', columns: null, estimatedRows: 100 })
  const tooLarge = step.findings.filter((finding) => finding.rule === 'archive-too-large')
  t.equal(tooLarge.length, 1, 'only the archive above the limit')
  t.match(tooLarge[0], { statement: 0, table: 'runs', severity: 'warning', message: /ARCHIVE_MAX_BYTES \(50000\)/ })
})

t.test('archive: false shows as a finding with its reason, per revision or per statement; nothing is listed', async (t) => {
  const graph = RevisionGraph.build([
    rev('b0b0b0b0b0b0', [], { up: ['DROP TABLE cache'], down: [], archive: { enabled: false, reason: 'a cache, rebuilt at start' } }),
    rev('b1b1b1b1b1b1', ['b0b0b0b0b0b0'], { up: ['-- archive: false the lake holds every note\nALTER TABLE runs DROP COLUMN note', 'DELETE FROM runs WHERE id > 4000'], down: [] }),
  ])
  const plan = await buildPlan(db, graph, { target: 'head', direction: 'upgrade', requestedBy: 'test' }, 100_000)
  const [first, second] = plan.steps
  t.same(first?.archives, [])
  t.match(first?.findings.find((finding) => finding.rule === 'archive-disabled'), { statement: 0, message: /a cache, rebuilt at start/ })
  t.same(second?.archives.map((archive) => [archive.table, archive.columns]), [['runs', null]], 'the DELETE is still archived')
  t.match(second?.findings.filter((finding) => finding.rule === 'archive-disabled'), [{ statement: 0, message: /the lake holds every note/ }])
})
