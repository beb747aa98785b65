import t, { type Test } from 'tap'
import pg from 'pg'
import listIndexes from '../../../src/migrations/505acae0b257_add_keyset_indexes_for_the_data_lists.js'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, createParents } from '../../helpers/data.js'

// Thousands of rows behind every filter value: without an index in the list's own order, each
// page would read and sort all of them, which is what the revision before the list indexes does.
const { app, db, url: databaseUrl } = await buildDataApp(t, 'indexes')
// The app issues $n placeholders; pg takes them as they are, knex.raw would not.
const explainer = new pg.Pool({ connectionString: databaseUrl, max: 1 })
t.teardown(() => explainer.end())
const { userId } = await createParents(app)

await db.raw('INSERT INTO datasets (user_id, name, file_path) SELECT ?, \'indexed-\' || g, \'\' FROM generate_series(1, 20) AS g', [userId])
await db.raw(`INSERT INTO experiments (user_id, dataset_id, name)
  SELECT ?, d.id, 'indexed-' || d.name FROM datasets AS d`, [userId])
await db.raw(`INSERT INTO model_runs (experiment_id, model_type, status, metadata, created_at)
  SELECT e.id, 'model-' || (g % 5), CASE WHEN g % 100 = 0 THEN 'running' ELSE 'completed' END,
    jsonb_build_object('task_id', 'task-' || (g % 40)), now() - make_interval(secs => g * 7 + e.n)
  FROM (SELECT id, row_number() OVER () AS n FROM experiments) AS e, generate_series(1, 3000) AS g`)
await db.raw(`INSERT INTO preprocessing_steps (dataset_id, step_type, "order", is_active)
  SELECT d.id, 'scale', g % 300, g % 50 <> 0 FROM datasets AS d, generate_series(1, 1500) AS g`)
await db.raw(`INSERT INTO preprocessing_history (dataset_id, operation_type, status, created_at)
  SELECT d.id, 'scale', CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'completed' END, now() - make_interval(secs => g * 7 + d.n)
  FROM (SELECT id, row_number() OVER () AS n FROM datasets) AS d, generate_series(1, 1500) AS g`)
await db.raw('ANALYZE')

const someExperiment: string = (await db('experiments').whereLike('name', 'indexed-%').orderBy('id').offset(7).first('id')).id
const someDataset: string = (await db('datasets').whereLike('name', 'indexed-%').orderBy('id').offset(11).first('id')).id

/** Every list with none and each one of its documented filters; a cursor page of each follows a long first page. */
const lists: Array<[table: string, path: string]> = [
  ['model_runs', '/model-runs'],
  ['model_runs', '/model-runs?status=running'],
  ['model_runs', '/model-runs?status=completed'],
  ['model_runs', `/model-runs?experimentId=${someExperiment}`],
  ['model_runs', '/model-runs?modelType=model-3'],
  ['model_runs', '/model-runs?taskId=task-7'],
  ['preprocessing_steps', '/preprocessing-steps'],
  ['preprocessing_steps', `/preprocessing-steps?datasetId=${someDataset}`],
  ['preprocessing_steps', '/preprocessing-steps?active=false'],
  ['preprocessing_steps', '/preprocessing-steps?active=true'],
  ['preprocessing_history', '/preprocessing-history'],
  ['preprocessing_history', `/preprocessing-history?datasetId=${someDataset}`],
  ['preprocessing_history', '/preprocessing-history?status=failed'],
]

interface Issued { sql: string, bindings: readonly unknown[] }
interface PlanNode { 'Node Type': string, 'Relation Name'?: string, 'Index Name'?: string, 'Index Cond'?: string, Plans?: PlanNode[] }
interface ListPage { what: string, table: string, query: Issued, afterCursor: boolean }

function withQuery (path: string, query: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${query}`
}

/** The list query a request made the app issue, as the app issued it, and the answer. */
async function listQueryOf (t: Test, table: string, url: string): Promise<{ query: Issued, body: { items: unknown[], nextCursor: string | null } }> {
  const issued: Issued[] = []
  const record = (query: { sql: string, bindings?: readonly unknown[] }) => {
    if (query.sql.startsWith('select') && query.sql.includes(` from "${table}"`)) issued.push({ sql: query.sql, bindings: query.bindings ?? [] })
  }
  app.knex.on('query', record)
  try {
    const res = await app.inject({ url, headers: bearer('read') })
    t.equal(res.statusCode, 200, `${url} answers`)
    const [query] = issued
    if (issued.length !== 1 || query === undefined) throw new Error(`${url} issued ${issued.length} list queries: ${JSON.stringify(issued)}`)
    return { query, body: res.json() }
  } finally {
    app.knex.off('query', record)
  }
}

function nodes (plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

async function planOf (query: Issued): Promise<PlanNode[]> {
  const explained = await explainer.query(`EXPLAIN (FORMAT JSON) ${query.sql}`, query.bindings as unknown[])
  return nodes(explained.rows[0]['QUERY PLAN'][0].Plan)
}

/** The first page, and the page after the first 500 rows, of each list as the app queries them. */
async function pagesOf (t: Test): Promise<ListPage[]> {
  const pages: ListPage[] = []
  for (const [table, path] of lists) {
    const first = await listQueryOf(t, table, path)
    const long = await listQueryOf(t, table, withQuery(path, 'limit=500'))
    const cursor = long.body.nextCursor
    if (cursor === null) throw new Error(`${path} has no second page: the data above is too small`)
    const deep = await listQueryOf(t, table, withQuery(path, `cursor=${cursor}`))
    pages.push({ what: path, table, query: first.query, afterCursor: false }, { what: `${path} after 500 rows`, table, query: deep.query, afterCursor: true })
  }
  return pages
}

t.test('every list page, filtered or not, first or after a cursor, is an index scan in keyset order', async (t) => {
  for (const { what, table, query, afterCursor } of await pagesOf(t)) {
    const plan = await planOf(query)
    const described = plan.map((node) => [node['Node Type'], node['Index Name']].filter(Boolean).join(' on ')).join(' > ')
    const scan = plan.find((node) => node['Node Type'] === 'Index Scan' && node['Relation Name'] === table)
    t.notOk(plan.some((node) => node['Node Type'].includes('Sort')), `${what}: no sort (${described})`)
    t.ok(scan, `${what}: an index scan of ${table} (${described})`)
    // A cursor the index cannot seek to would read every row before it, page after page.
    if (afterCursor) t.match(scan?.['Index Cond'], /ROW\(/, `${what}: the scan starts at the cursor`)
  }
})

t.test('without the list indexes each of those pages sorts every matching row: the data is big enough to tell', async (t) => {
  // The same queries, planned with the list indexes dropped inside a transaction rolled back
  // after: the code's queries name columns later revisions add, so the schema cannot go back.
  const pages = await pagesOf(t)
  const dropped = [...listIndexes.down.filter((step) => typeof step === 'string'), 'DROP INDEX IF EXISTS ix_model_runs_task_id_created_at_id'].map((sql) => sql.replace('CONCURRENTLY ', ''))
  await explainer.query('BEGIN')
  try {
    for (const sql of dropped) await explainer.query(sql)
    for (const { what, query } of pages) {
      t.ok((await planOf(query)).some((node) => node['Node Type'].includes('Sort')), `${what} sorts`)
    }
  } finally {
    await explainer.query('ROLLBACK')
  }
})
