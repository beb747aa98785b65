// The data endpoints over a million model runs, against the very SQL they send (captured from
// the service) issued through a bare `pg` pool behind bare Fastify.
import { writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../dist/app.js'
import { admin, scratchDatabase, withClient } from './lib/database.mjs'
import { authorization, startBare, startService } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { rowsPerTable, seedModelRuns, seedParents } from './lib/seed.mjs'
import { fixed, median, share, summary } from './lib/stats.mjs'
import { wrk } from './lib/wrk.mjs'

const runs = Number(process.env.BENCH_RUNS ?? 3)
// Pages over a million rows take seconds under this load: longer runs, and no client timeout before theirs.
const durationS = 2 * Number(process.env.BENCH_DURATION_S ?? 5)
const timeoutS = 60
const connections = 50
// The two filters the data targets are held to, each read first page and deep.
const filters = {
  status: (value) => `/model-runs?status=${value}&limit=50`,
  experimentId: (value) => `/model-runs?experimentId=${value}&limit=50`,
}

export async function run () {
  const db = await scratchDatabase('data')
  const sqlFile = join(tmpdir(), `aip-bench-sql-${process.pid}.json`)
  let service
  let bare
  try {
    // Like for like with the bare pool, which has no timeouts: the service's defaults would
    // answer this overload with fast 503s (statement 5 s, pool 2 s) instead of serving it.
    service = await startService(db.url, { DATA_STATEMENT_TIMEOUT_MS: '0', DATABASE_POOL_ACQUIRE_TIMEOUT_MS: String(timeoutS * 1000) })
    const up = await fetch(`${service.base}/migrations/upgrade`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: '{}' })
    if (up.status !== 200) throw new Error(`upgrade answered ${up.status}`)
    progress(`data: seeding ${rowsPerTable} model runs`)
    const lists = await withClient(db.url, async (client) => {
      await seedParents(client)
      await seedModelRuns(client, rowsPerTable, { withStatus: true })
      await client.query('ANALYZE')
      const experimentId = (await client.query('SELECT id FROM experiments LIMIT 1')).rows[0].id
      return {
        status: { value: 'completed', deepCursor: await deepCursorOf(client, 'completed', 'status') },
        experimentId: { value: experimentId, deepCursor: await deepCursorOf(client, experimentId, 'experiment_id') },
      }
    })
    const createBody = JSON.stringify({ experimentId: lists.experimentId.value, modelType: 'xgboost', hyperparameters: { n_estimators: 200 }, metadata: { task_id: 'bench' } })
    const captured = await captureSql(db.url, { lists, createBody })
    await writeFile(sqlFile, JSON.stringify(captured.queries))
    const plans = await withClient(db.url, async (client) => {
      const explained = {}
      for (const name of Object.keys(captured.queries).filter((key) => key !== 'create')) {
        explained[name] = await explain(client, captured.queries[name], captured.values[name])
      }
      return explained
    })
    // The same database, so the bare pool reads through the very indexes the service does.
    bare = await startBare({ DATABASE_URL: db.url, BENCH_SQL_FILE: sqlFile })

    const loads = {}
    for (const [filter, path] of Object.entries(filters)) {
      const first = path(encodeURIComponent(lists[filter].value))
      loads[`GET first page, ${filter}`] = { path: first, plan: `${filter}.firstPage` }
      loads[`GET deep cursor page, ${filter}`] = { path: `${first}&cursor=${lists[filter].deepCursor}`, plan: `${filter}.deepPage` }
    }
    loads['POST /model-runs'] = { path: '/model-runs', method: 'POST', body: createBody }
    const results = {}
    for (const [name, load] of Object.entries(loads)) {
      const options = (base) => ({ url: `${base}${load.path}`, method: load.method, body: load.body, headers: authorization, connections, durationS, timeoutS })
      await wrk({ ...options(service.base), durationS: 1 })
      await wrk({ ...options(bare.base), durationS: 1 })
      const ours = []
      const theirs = []
      for (let round = 0; round < runs; round++) {
        progress(`data: ${name} round ${round + 1}/${runs}`)
        await drained(db)
        theirs.push(await wrk(options(bare.base)))
        await drained(db)
        ours.push(await wrk(options(service.base)))
      }
      results[name] = { ours, theirs, plan: plans[load.plan] }
    }
    return report(results, plans, captured.queriesPerRequest)
  } finally {
    await service?.stop()
    await bare?.stop()
    await rm(sqlFile, { force: true })
    await db.drop()
  }
}

/** wrk hangs up at the end of a run, but the queries it left queued still run: the next run waits for them. */
async function drained (db) {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const { rows } = await admin("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND backend_type = 'client backend'", [db.name])
    if (rows[0].n === 0) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** A fifth of the way through the rows a filter matches: a page far from the first. */
async function deepCursorOf (client, value, column) {
  const { rows: [{ n }] } = await client.query(`SELECT count(*)::int AS n FROM model_runs WHERE ${column} = $1`, [value])
  const { rows } = await client.query(`SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt", id
    FROM model_runs WHERE ${column} = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`, [value, Math.floor(n * 0.2)])
  return Buffer.from(JSON.stringify(rows[0])).toString('base64url')
}

/**
 * Runs each request once through the app in this process and keeps the model_runs statement
 * it sent, with where each binding came from, so the bare baseline sends the same SQL.
 * Lists are named `<filter>.firstPage` and `<filter>.deepPage`, which is how the bare server finds them.
 */
async function captureSql (url, { lists, createBody }) {
  const app = await buildApp({
    databaseUrl: url,
    config: { auth: { disabled: true, tokens: [] }, lock: { waitMs: 30_000, lockTimeoutMs: 10_000 }, fittedTransformerMaxBytes: 1 },
  })
  await app.ready()
  const body = JSON.parse(createBody)
  const requests = {}
  for (const [filter, path] of Object.entries(filters)) {
    const { value, deepCursor } = lists[filter]
    const first = path(encodeURIComponent(value))
    requests[`${filter}.firstPage`] = { inject: { url: first }, values: { [filter]: value, fetch: 51 } }
    requests[`${filter}.deepPage`] = { inject: { url: `${first}&cursor=${deepCursor}` }, values: { [filter]: value, fetch: 51, ...renameCursor(deepCursor) } }
  }
  Object.assign(requests, {
    create: {
      inject: { method: 'POST', url: '/model-runs', payload: createBody, headers: { 'content-type': 'application/json' } },
      values: { experimentId: body.experimentId, modelType: body.modelType, hyperparameters: JSON.stringify(body.hyperparameters), metadata: JSON.stringify(body.metadata) },
    },
  })
  const queries = {}
  const values = {}
  const queriesPerRequest = {}
  try {
    for (const [name, request] of Object.entries(requests)) {
      // Once to warm what the service caches, once to see what a request costs in steady state.
      await app.inject(request.inject)
      const sent = []
      const listener = (query) => sent.push(query)
      app.knex.on('query', listener)
      const res = await app.inject(request.inject)
      app.knex.off('query', listener)
      if (res.statusCode >= 300) throw new Error(`${name}: the service answered ${res.statusCode} ${res.body}`)
      const statement = sent.find((query) => /model_runs/.test(query.sql))
      queries[name] = { sql: toNative(statement.sql), sources: statement.bindings.map((binding) => sourceOf(request.values, binding, name)) }
      values[name] = statement.bindings
      queriesPerRequest[name] = sent.length
    }
  } finally {
    await app.close()
  }
  return { queries, values, queriesPerRequest }
}

function renameCursor (cursor) {
  const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  return { cursorCreatedAt: key.createdAt, cursorId: key.id }
}

function sourceOf (values, binding, name) {
  const source = Object.keys(values).find((key) => String(values[key]) === String(binding))
  if (source === undefined) throw new Error(`${name}: cannot tell where binding ${JSON.stringify(binding)} comes from`)
  return source
}

/** Knex reports `?` placeholders; pg wants `$n`. */
function toNative (sql) {
  let position = 0
  return sql.replace(/\?/g, () => `$${++position}`)
}

async function explain (client, query, bindings) {
  const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${query.sql}`, bindings)
  return rows.map((row) => row['QUERY PLAN']).join('\n')
}

function report (results, plans, queriesPerRequest) {
  const rows = Object.entries(results).map(([name, { ours, theirs }]) => [
    name,
    summary(ours.map((r) => r.rps), 0),
    summary(theirs.map((r) => r.rps), 0),
    share(ours.map((r) => r.rps), theirs.map((r) => r.rps)),
    summary(ours.map((r) => r.p99)),
    summary(theirs.map((r) => r.p99)),
    `${ours.reduce((sum, r) => sum + r.failed, 0)} / ${theirs.reduce((sum, r) => sum + r.failed, 0)}`,
  ])
  const section = [
    `### Data at ${connections} connections over ${rowsPerTable.toLocaleString('en')} model runs (wrk, ${runs} runs of ${durationS} s each, ${timeoutS} s client timeout)`,
    '',
    'The service runs here with `DATA_STATEMENT_TIMEOUT_MS=0` and a pool wait as long as the client\'s, like the bare pool; with its defaults it would shed this overload as fast 503s. Requests per second count only 2xx answers.',
    '',
    table(['request', 'service req/s served', 'bare pool req/s served', 'service / bare', 'service p99 ms', 'bare p99 ms', 'non-2xx service / bare'], rows),
    '',
    `Queries the service sent per request (through the app, its caches warm): ${Object.entries(queriesPerRequest).map(([name, n]) => `${name} ${n}`).join(', ')}.`,
    '',
    ...Object.entries(plans).flatMap(([name, plan]) => [
      `\`EXPLAIN (ANALYZE, BUFFERS)\` of the ${name.replace('.firstPage', ' first page').replace('.deepPage', ' deep cursor page')}, as the service sends it:`,
      '',
      '```',
      plan,
      '```',
      '',
    ]),
  ].join('\n').trimEnd()
  const verdicts = []
  for (const [name, { ours, theirs, plan }] of Object.entries(results).filter(([, result]) => result.plan !== undefined)) {
    const p99 = median(ours.map((r) => r.p99))
    const measured = Number.isNaN(p99) ? `nothing answered within ${durationS} s` : `${fixed(p99)} ms`
    const why = /Sort/.test(plan)
      ? 'its plan (below) reads and sorts every matching row'
      : `its plan (below) is an index scan with no sort; the bare pool sending the same SQL had p99 ${fixed(median(theirs.map((r) => r.p99)))} ms on this machine meanwhile`
    verdicts.push(verdict(`${name}: p99 < 15 ms at ${connections} connections`, measured, p99 < 15, why))
  }
  for (const name of Object.keys(results)) {
    const part = median(results[name].ours.map((r) => r.rps)) / median(results[name].theirs.map((r) => r.rps))
    verdicts.push(verdict(`${name}: ≥ 60% of the bare pool`, share(results[name].ours.map((r) => r.rps), results[name].theirs.map((r) => r.rps)), part >= 0.6,
      Number.isNaN(part) ? 'not measurable: neither answered within the run' : `${fixed(100 * (0.6 - part), 0)} points short`))
  }
  return { section, verdicts }
}

await runIfMain(import.meta.url, run)
