import t from 'tap'
import { DatabaseStateMismatchError, RevisionGraph } from '../../src/migrator/index.js'
import { buildPlan } from '../../src/review/plan-builder.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { rev } from '../helpers/revisions.js'

const url = await createTestDatabase(t, 'plan_builder')
const db = testKnex(t, url)

t.test('each Squawk finding goes back to its statement, past multi-byte text; DO blocks are opaque', async (t) => {
  const graph = RevisionGraph.build([rev('f0f0f0f0f0f0', [], {
    transactional: false,
    up: [
      'CREATE TABLE IF NOT EXISTS "naïve_ünïcödé" (\n  id bigint PRIMARY KEY,\n  note text NOT NULL DEFAULT \'ça dépend — €\'\n)',
      'CREATE INDEX ix_naive_note ON "naïve_ünïcödé" (note)',
      'DO $$ BEGIN EXECUTE \'DROP TABLE "naïve_ünïcödé"\'; END $$',
    ],
    down: ['ALTER TABLE "naïve_ünïcödé" DROP COLUMN note', 'DROP TABLE "naïve_ünïcödé"'],
  })])
  const plan = await buildPlan(db, graph, { target: 'head', direction: 'upgrade', requestedBy: 'test' }, 100_000)
  const [step] = plan.steps
  t.same(step?.findings.map((finding) => [finding.statement, finding.rule, finding.severity]), [
    [1, 'prefer-robust-stmts', 'warning'],
    [1, 'require-concurrent-index-creation', 'info'],
    [2, 'opaque', 'warning'],
  ])
  t.match(step?.findings[1], { table: 'naïve_ünïcödé', estimatedRows: 0, lock: 'SHARE' })
  t.same(plan.summary, { errors: 0, warnings: 2, acknowledged: 0 })
  t.same(plan.from, [])
  t.same(plan.to, ['f0f0f0f0f0f0'])
})

t.test('destructive steps name the rows they drop, also on tables Squawk says nothing about', async (t) => {
  const graph = RevisionGraph.build([rev('f1f1f1f1f1f1', [], { up: ['CREATE TABLE notes (id bigint PRIMARY KEY, body text, title text)'], down: ['ALTER TABLE notes DROP COLUMN body, DROP COLUMN title', 'TRUNCATE notes', 'DROP TABLE notes'] })])
  await db.raw('CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES (\'f1f1f1f1f1f1\')')
  await db.raw('CREATE TABLE notes (id bigint PRIMARY KEY, body text, title text); INSERT INTO notes SELECT g, \'x\' FROM generate_series(1, 2500) g')
  await db.raw('VACUUM ANALYZE notes')
  const plan = await buildPlan(db, graph, { target: 'base', direction: 'downgrade', requestedBy: 'test' }, 100_000)
  const findings = plan.steps[0]?.findings ?? []
  t.same(findings.map((finding) => [finding.statement, finding.rule, finding.severity, finding.estimatedRows]), [
    [0, 'ban-drop-column', 'warning', 2500],
    [0, 'ban-drop-column', 'warning', 2500],
    [1, 'destructive-change', 'warning', 2500],
    [2, 'ban-drop-table', 'warning', 2500],
  ])
  t.match(findings[0]?.message, /Drops the values of notes\.body in ~2,500 rows\./)
  t.match(findings[1]?.message, /Drops the values of notes\.title in ~2,500 rows\./)
  t.match(findings[2]?.message, /^Deletes the ~2,500 rows of notes\.$/)
  t.match(findings[3]?.message, /Drops notes and its ~2,500 rows\./)
})

t.test('a database at a revision the code does not know is refused, as by the engine', async (t) => {
  const graph = RevisionGraph.build([rev('f2f2f2f2f2f2')])
  await t.rejects(buildPlan(db, graph, { target: 'head', direction: 'upgrade', requestedBy: 'test' }, 100_000), DatabaseStateMismatchError)
})

t.test('a bare UPDATE over a large table is an error naming the backfill step; a backfill step shows as batched', async (t) => {
  const graph = RevisionGraph.build([
    rev('f1f1f1f1f1f1', [], { up: ['CREATE TABLE notes (id bigint PRIMARY KEY, body text, title text)'], down: ['DROP TABLE notes'] }),
    rev('f3f3f3f3f3f3', ['f1f1f1f1f1f1'], {
      transactional: false,
      up: ['UPDATE notes SET title = body', { backfill: { table: 'notes', set: 'title = body', where: 'title IS DISTINCT FROM body' } }],
      down: [],
    }),
  ])
  const large = await buildPlan(db, graph, { target: 'head', direction: 'upgrade', requestedBy: 'test' }, 1000)
  const findings = large.steps[0]?.findings ?? []
  t.same(findings.map((finding) => [finding.statement, finding.rule, finding.severity]), [
    [0, 'unbatched-update', 'error'],
    [1, 'batched-backfill', 'info'],
  ])
  t.match(findings[0]?.message, /One UPDATE over notes \(~2,500 rows\).*\{ backfill: \{ table: 'notes'/)
  t.match(large.steps[0]?.sql[1], /^-- batched backfill[^\n]*\nUPDATE notes SET title = body WHERE title IS DISTINCT FROM body$/)
  const small = await buildPlan(db, graph, { target: 'head', direction: 'upgrade', requestedBy: 'test' }, 100_000)
  t.same(small.steps[0]?.findings.map((finding) => finding.rule), ['batched-backfill'], 'below the large-table size a bare UPDATE is fine')
})
