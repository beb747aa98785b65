import t, { type Test } from 'tap'
import pg from 'pg'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, createParents } from '../../helpers/data.js'

// Large and skewed enough that PostgreSQL prefers a sequential scan unless an index really serves the filter.
const { app, db, url: databaseUrl } = await buildDataApp(t, 'indexes')
// The app issues $n placeholders; pg takes them as they are, knex.raw would not.
const explainer = new pg.Pool({ connectionString: databaseUrl, max: 1 })
t.teardown(() => explainer.end())
const { userId } = await createParents(app)

await db.raw('INSERT INTO datasets (user_id, name, file_path) SELECT ?, \'indexed-\' || g, \'\' FROM generate_series(1, 400) AS g', [userId])
await db.raw(`INSERT INTO experiments (user_id, dataset_id, name)
  SELECT ?, d.id, 'indexed-' || d.name FROM datasets AS d`, [userId])
await db.raw(`INSERT INTO model_runs (experiment_id, model_type, status)
  SELECT e.id, 'model-' || (g % 10), CASE WHEN g % 100 = 0 THEN 'running' ELSE 'completed' END
  FROM experiments AS e, generate_series(1, 50) AS g`)
await db.raw(`INSERT INTO preprocessing_steps (dataset_id, step_type, "order", is_active)
  SELECT d.id, 'scale', g, g % 50 <> 0 FROM datasets AS d, generate_series(1, 25) AS g`)
await db.raw(`INSERT INTO preprocessing_history (dataset_id, operation_type, status)
  SELECT d.id, 'scale', 'completed' FROM datasets AS d, generate_series(1, 25) AS g`)
await db.raw('ANALYZE')

const someExperiment: string = (await db('experiments').offset(7).first('id')).id
const someDataset: string = (await db('datasets').offset(11).first('id')).id

interface Issued { sql: string, bindings: readonly unknown[] }

/** The SELECTs a request made the app issue, as the app issued them. */
async function selectsOf (t: Test, url: string): Promise<Issued[]> {
  const issued: Issued[] = []
  const record = (query: { sql: string, bindings?: readonly unknown[] }) => {
    if (/^select/i.test(query.sql)) issued.push({ sql: query.sql, bindings: query.bindings ?? [] })
  }
  app.knex.on('query', record)
  try {
    const res = await app.inject({ url, headers: bearer('read') })
    t.equal(res.statusCode, 200, `${url} answers`)
  } finally {
    app.knex.off('query', record)
  }
  return issued
}

function indexNames (plan: Record<string, unknown>): string[] {
  const own = typeof plan['Index Name'] === 'string' ? [plan['Index Name']] : []
  const children = (plan.Plans as Array<Record<string, unknown>> | undefined) ?? []
  return [...own, ...children.flatMap(indexNames)]
}

async function indexesUsedBy (t: Test, url: string): Promise<string[]> {
  const selects = await selectsOf(t, url)
  const list = selects.find((query) => / from "(model_runs|preprocessing_steps|preprocessing_history)"/.test(query.sql))
  if (list === undefined) throw new Error(`${url} issued no list query: ${JSON.stringify(selects)}`)
  const explained = await explainer.query(`EXPLAIN (FORMAT JSON) ${list.sql}`, list.bindings as unknown[])
  return indexNames(explained.rows[0]['QUERY PLAN'][0].Plan)
}

const servedBy: Array<[string, () => string, string]> = [
  ['model runs by status', () => '/model-runs?status=running', 'ix_model_runs_status'],
  ['model runs by experiment', () => `/model-runs?experimentId=${someExperiment}`, 'ix_model_runs_experiment_id'],
  ['preprocessing steps by dataset', () => `/preprocessing-steps?datasetId=${someDataset}`, 'ix_preprocessing_steps_dataset_id'],
  ['inactive preprocessing steps', () => '/preprocessing-steps?active=false', 'ix_preprocessing_steps_is_active'],
  ['preprocessing history by dataset', () => `/preprocessing-history?datasetId=${someDataset}`, 'ix_preprocessing_history_dataset_id'],
]

for (const [what, url, index] of servedBy) {
  t.test(`${what}: the query the route issues is planned on ${index}`, async (t) => {
    const used = await indexesUsedBy(t, url())
    t.ok(used.includes(index), `${index} in ${JSON.stringify(used)}`)
  })
}

t.test('the same list unfiltered scans, so the filters above are what the indexes serve', async (t) => {
  t.same(await indexesUsedBy(t, '/model-runs?limit=50'), [])
})
