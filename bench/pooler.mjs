// Data reads and writes through PgBouncer (transaction mode) beside the direct pool, and what
// enforcing the data statement timeout costs: before, `statement_timeout` was a startup
// parameter (free per query, but a pooler refuses it); now a client timer sends a protocol
// cancel (a timer per query); the alternative, `SET LOCAL` in a transaction around each query,
// is measured too. In process: 16 workers for BENCH_POOLER_S seconds per figure, the variants
// interleaved over BENCH_RUNS rounds. `npm run bench:pooler` (~3 min), never part of `npm test`.
import { execFileSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import os from 'node:os'
import { buildApp } from '../dist/app.js'
import { parseApiTokens } from '../dist/auth/tokens.js'
import { createKnex } from '../dist/plugins/knex.js'
import { scratchDatabase, withClient } from './lib/database.mjs'
import { startPgBouncer } from './lib/pgbouncer.mjs'
import { benchToken } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { seedModelRuns, seedParents } from './lib/seed.mjs'
import { fixed, median, summary } from './lib/stats.mjs'

const runs = Number(process.env.BENCH_RUNS ?? 3)
const seconds = Number(process.env.BENCH_POOLER_S ?? 2)
const concurrency = 16
const timeoutMs = 5000
const modelRuns = 20_000

/**
 * `concurrency` workers loop on `op` for `seconds`: the median latency (robust to a shared,
 * noisy machine, unlike a throughput over a few seconds) and this process's CPU per operation
 * (what a client-side timer costs, whatever the server does).
 */
async function sample (op) {
  const deadline = performance.now() + seconds * 1000
  const latencies = []
  const cpu = process.cpuUsage()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const started = performance.now()
      await op()
      latencies.push(performance.now() - started)
    }
  }))
  const used = process.cpuUsage(cpu)
  return { latencyMs: median(latencies), cpuUs: (used.user + used.system) / latencies.length }
}

function withStartupTimeout (url) {
  const direct = new URL(url)
  direct.searchParams.set('options', `-c statement_timeout=${timeoutMs}`)
  return direct.toString()
}

export async function run () {
  const loadBefore = os.loadavg()[0].toFixed(2)
  const db = await scratchDatabase('pooler')
  const pooler = await startPgBouncer()
  const closers = []
  try {
    const migrating = await buildApp({ databaseUrl: db.url, config: benchConfig(0) })
    const up = await migrating.inject({ method: 'POST', url: '/migrations/upgrade', headers: { authorization: `Bearer ${benchToken}` }, payload: {} })
    if (up.statusCode !== 200) throw new Error(`upgrade answered ${up.statusCode}: ${up.body}`)
    await migrating.close()
    progress(`pooler: seeding ${modelRuns} model runs`)
    const { ids, experimentIds } = await withClient(db.url, async (client) => {
      await seedParents(client, 100)
      await seedModelRuns(client, modelRuns, { withStatus: true })
      await client.query('ANALYZE')
      return {
        ids: (await client.query('SELECT id FROM model_runs')).rows.map((row) => row.id),
        experimentIds: (await client.query('SELECT id FROM experiments')).rows.map((row) => row.id),
      }
    })
    const anyId = () => ids[randomInt(ids.length)]
    const anyExperiment = () => experimentIds[randomInt(experimentIds.length)]

    // The queries themselves, on a Knex pool of 10 as the service's.
    const pools = {
      'startup parameter, direct (before)': { knex: createKnex(withStartupTimeout(db.url)) },
      'client timer + cancel, direct': { knex: createKnex(db.url, { statementTimeoutMs: timeoutMs }) },
      'client timer + cancel, PgBouncer': { knex: createKnex(pooler.pooled(db.url), { statementTimeoutMs: timeoutMs }) },
      'SET LOCAL in a transaction, direct': { knex: createKnex(db.url), local: true },
      'SET LOCAL in a transaction, PgBouncer': { knex: createKnex(pooler.pooled(db.url)), local: true },
    }
    for (const pool of Object.values(pools)) closers.push(() => pool.knex.destroy())
    const on = (pool, query) => pool.local
      ? pool.knex.transaction(async (trx) => {
        await trx.raw(`SET LOCAL statement_timeout = ${timeoutMs}`)
        return query(trx)
      })
      : query(pool.knex)
    const queries = {
      'read by id': (pool) => on(pool, (k) => k('model_runs').where({ id: anyId() }).first()),
      'insert a run': (pool) => on(pool, (k) => k('model_runs').insert({ experiment_id: anyExperiment(), model_type: 'bench', hyperparameters: {} }).returning('id')),
    }
    const queryFigures = await measure(pools, queries, (pool, op) => () => op(pool))

    // The same through the service's routes (in process, no HTTP socket): what a request pays.
    const apps = {
      'startup parameter, direct (before)': await buildApp({ databaseUrl: withStartupTimeout(db.url), config: benchConfig(0) }),
      'client timer + cancel, direct': await buildApp({ databaseUrl: db.url, config: benchConfig(timeoutMs) }),
      'client timer + cancel, PgBouncer': await buildApp({ databaseUrl: pooler.pooled(db.url), migrationDatabaseUrl: db.url, config: benchConfig(timeoutMs) }),
    }
    for (const app of Object.values(apps)) {
      await app.ready()
      closers.push(() => app.close())
    }
    const headers = { authorization: `Bearer ${benchToken}` }
    const requests = {
      'GET /model-runs/{id}': (app) => app.inject({ url: `/model-runs/${anyId()}`, headers }),
      'POST /model-runs': (app) => app.inject({ method: 'POST', url: '/model-runs', headers, payload: { experimentId: anyExperiment(), modelType: 'bench' } }),
    }
    const requestFigures = await measure(apps, requests, (app, op) => async () => {
      const res = await op(app)
      if (res.statusCode >= 300) throw new Error(`${res.statusCode}: ${res.body}`)
    })

    const baseline = 'startup parameter, direct (before)'
    const latency = (figures, op, variant) => median(figures[op][variant].map((figure) => figure.latencyMs))
    const ratio = (figures, op, variant) => latency(figures, op, variant) / latency(figures, op, baseline)
    const rows = (figures) => Object.entries(figures).flatMap(([op, byVariant]) => Object.entries(byVariant).map(([variant, values]) => [
      op, variant, summary(values.map((figure) => figure.latencyMs), 2), `${fixed(ratio(figures, op, variant), 2)}×`, summary(values.map((figure) => figure.cpuUs), 0),
    ]))
    const header = ['timeout mechanism, connection', 'median latency, ms', 'latency vs before', 'client CPU per op, µs']
    const section = [
      '## Behind a connection pooler',
      '',
      `PgBouncer ${pgbouncerVersion()} in transaction mode (pool of 20) in front of the same server; ${concurrency} concurrent workers in process, ${seconds} s per figure, ${runs} rounds interleaved; median (range over the rounds), and the ratio to before (the timeout as a startup parameter, on a direct pool). ${modelRuns} model runs. Load average before / after: ${loadBefore} / ${os.loadavg()[0].toFixed(2)}.`,
      '',
      '### Queries (a Knex pool of 10)',
      '',
      table(['query', ...header], rows(queryFigures)),
      '',
      '### Requests (the service in process, `inject`)',
      '',
      table(['request', ...header], rows(requestFigures)),
    ].join('\n')
    const timerDirect = Math.max(ratio(queryFigures, 'read by id', 'client timer + cancel, direct'), ratio(queryFigures, 'insert a run', 'client timer + cancel, direct'))
    const verdicts = [
      verdict('client timer + cancel on a direct pool: latency within 1.1× of the startup parameter (queries)', `${fixed(timerDirect, 2)}× at worst`, timerDirect <= 1.1),
      verdict('the client timer is cheaper than SET LOCAL in a transaction through the pooler (reads)',
        `${fixed(ratio(queryFigures, 'read by id', 'client timer + cancel, PgBouncer'), 2)}× vs ${fixed(ratio(queryFigures, 'read by id', 'SET LOCAL in a transaction, PgBouncer'), 2)}×`,
        ratio(queryFigures, 'read by id', 'client timer + cancel, PgBouncer') < ratio(queryFigures, 'read by id', 'SET LOCAL in a transaction, PgBouncer')),
    ]
    return { section, verdicts }
  } finally {
    for (const close of closers) await close().catch(() => undefined)
    await pooler.stop()
    await db.drop()
  }
}

/** Each op on each variant, `runs` rounds, variants interleaved so that the machine's noise falls on all of them. */
async function measure (variants, ops, bind) {
  const figures = {}
  for (const [opName, op] of Object.entries(ops)) {
    figures[opName] = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
    for (const variant of Object.values(variants)) await sample(bind(variant, op))
    for (let round = 0; round < runs; round++) {
      for (const [name, variant] of Object.entries(variants)) {
        progress(`pooler: ${opName}, ${name}, round ${round + 1}`)
        figures[opName][name].push(await sample(bind(variant, op)))
      }
    }
  }
  return figures
}

function benchConfig (statementTimeoutMs) {
  return {
    auth: { disabled: false, tokens: parseApiTokens(`admin=${benchToken}`) },
    lock: { waitMs: 30_000, lockTimeoutMs: 10_000 },
    fittedTransformerMaxBytes: 1024 * 1024,
    http: { jsonBodyLimitBytes: 256 * 1024, migrationsPerMinute: 1_000_000, writesPerMinute: 100_000_000 },
    database: { statementTimeoutMs, migrationStatementTimeoutMs: 0, poolAcquireTimeoutMs: 10_000, schemaStateRefreshMs: 5000 },
  }
}

function pgbouncerVersion () {
  return execFileSync('pgbouncer', ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^PgBouncer /, '')
}

await runIfMain(import.meta.url, run)
