// A plan for the whole graph beside a dry run of the same steps, on a database at the first
// revision holding BENCH_ROWS (default 1,000,000) model runs and preprocessing steps: what
// `POST /migrations/plan` costs without HTTP (state, catalog facts, one Squawk per step), against
// what `dryRun` costs (the lock, the steps run and rolled back).
import knexFactory from 'knex'
import pg from 'pg'
import { loadRevisions, RevisionGraph, SchemaMigrator } from '../dist/migrator/index.js'
import { buildPlan } from '../dist/review/plan-builder.js'
import { runSquawk } from '../dist/review/squawk.js'
import { scratchDatabase } from './lib/database.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { rowsPerTable, seedModelRuns, seedParents, seedPreprocessingSteps } from './lib/seed.mjs'
import { fixed, median, summary, timed } from './lib/stats.mjs'

const runs = Number(process.env.BENCH_RUNS ?? 20)
const targetMs = 200
const silent = { info () {}, warn () {}, error () {} }

export async function run () {
  const graph = RevisionGraph.build(await loadRevisions())
  const [root] = graph.all()
  const db = await scratchDatabase('plan')
  const knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 4 } })
  try {
    const migrator = new SchemaMigrator({ knex, graph, instance: 'bench', lockWaitMs: 30_000, lockTimeoutMs: 10_000, logger: silent })
    await migrator.upgrade({ target: root.revision, actor: 'bench' })
    progress(`plan: seeding ${rowsPerTable.toLocaleString('en-US')} model runs and preprocessing steps…`)
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await seedParents(client)
    await seedModelRuns(client, rowsPerTable, { withStatus: false })
    await seedPreprocessingSteps(client, rowsPerTable)
    await client.query('VACUUM ANALYZE')
    await client.end()

    const plan = () => buildPlan(knex, graph, { target: 'head', direction: 'upgrade', requestedBy: 'bench' }, 100_000)
    const dryRun = () => migrator.upgrade({ target: 'head', dryRun: true, actor: 'bench' })
    const sample = await plan()
    const squawk = () => Promise.all(sample.steps.map((step) => runSquawk(step.sql.join(';\n'), { inTransaction: step.transactional })))
    for (let warm = 0; warm < 3; warm++) { await plan(); await dryRun() }
    const planMs = []
    const dryRunMs = []
    const squawkMs = []
    for (let index = 0; index < runs; index++) {
      planMs.push(await timed(plan))
      dryRunMs.push(await timed(dryRun))
      squawkMs.push(await timed(squawk))
    }
    const steps = sample.steps.length
    const section = [
      `### Plan against dry run (${steps} steps from ${root.revision}, ${rowsPerTable.toLocaleString('en-US')} model runs; ${runs} runs each, ms)`,
      '',
      table(['', 'median', 'min … max'], [
        ['plan (state, catalog facts, Squawk per step)', fixed(median(planMs)), summary(planMs)],
        ['of which Squawk: one run per step, side by side', fixed(median(squawkMs)), summary(squawkMs)],
        ['dry run of the same steps', fixed(median(dryRunMs)), summary(dryRunMs)],
      ]),
      '',
      `The plan's findings: ${sample.summary.errors} errors, ${sample.summary.warnings} warnings.`,
    ].join('\n')
    return { section, verdicts: [verdict(`a plan for the whole graph under ${targetMs} ms`, `${fixed(median(planMs))} ms median`, median(planMs) < targetMs)] }
  } finally {
    await knex.destroy()
    await db.drop()
  }
}

await runIfMain(import.meta.url, run)
