import { userInfo } from 'node:os'
import t from 'tap'
import { runCli } from '../../src/cli/run.js'
import { loadRevisions, RevisionGraph } from '../../src/migrator/index.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { fillRealisticRows } from '../helpers/realistic-rows.js'
import { buildPlan } from '../../src/review/plan-builder.js'
import { defaultReviewSettings } from '../../src/review/types.js'

/*
 * Every revision this build ships, linted both ways against a database of production's size:
 * a revision that would block a big table fails here unless it acknowledges why it is safe.
 */
const graph = RevisionGraph.build(await loadRevisions())
const url = await createTestDatabase(t, 'lint_revisions')
const db = testKnex(t, url)
const app = await buildTestApp(t, url)

function unacknowledgedErrors (plan: Awaited<ReturnType<typeof buildPlan>>): string[] {
  return plan.steps.flatMap((step) => step.findings
    .filter((finding) => finding.severity === 'error' && finding.acknowledged === undefined)
    .map((finding) => `${step.revision} ${step.direction} statement ${finding.statement}: ${finding.rule}: ${finding.message}`))
}

for (const revision of graph.all()) {
  t.test(`${revision.revision}: ${revision.description}`, async (t) => {
    for (const parent of revision.downRevisions) await app.migrator.upgrade({ target: parent, actor: 'lint suite' })
    await fillRealisticRows(db)
    const up = await buildPlan(db, graph, { target: revision.revision, direction: 'upgrade', requestedBy: 'lint suite' }, defaultReviewSettings.largeTableRows)
    t.same(up.steps.map((step) => step.revision), [revision.revision], 'the plan is this revision alone')
    t.same(unacknowledgedErrors(up), [], 'upgrade: no unacknowledged error')

    await app.migrator.upgrade({ target: revision.revision, actor: 'lint suite' })
    await fillRealisticRows(db)
    const down = await buildPlan(db, graph, { target: revision.downRevisions[0] ?? 'base', direction: 'downgrade', requestedBy: 'lint suite' }, defaultReviewSettings.largeTableRows)
    t.same(down.steps.map((step) => step.revision), [revision.revision])
    t.same(unacknowledgedErrors(down), [], 'downgrade: no unacknowledged error')
  })
}

t.test('check --lint straight against the database: the pending steps lint clean', async (t) => {
  const [root] = graph.all()
  if (root === undefined) throw new Error('no revisions')
  await app.migrator.downgrade({ target: root.revision, actor: 'lint suite' })
  let stdout = ''
  const code = await runCli(['check', '--lint', '--json'], { DATABASE_URL: url }, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: () => undefined } })
  t.equal(code, 1, 'not at head')
  const report = JSON.parse(stdout)
  t.same(report.plan.steps.map((step: { revision: string }) => step.revision), graph.all().slice(1).map((revision) => revision.revision))
  t.equal(report.plan.summary.errors, 0)
  t.same(report.findings.filter((finding: string) => finding.startsWith('lint:')), [])
  t.equal(report.plan.requestedBy, `cli:${userInfo().username}`)
  const drift = await app.inject({ url: '/schema/drift', headers: bearer('read') })
  t.equal(drift.json().inSync, true, 'the kept plans are bookkeeping, not drift')
})
