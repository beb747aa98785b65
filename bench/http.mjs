// Probes and `/migrations/current` at 50 connections against bare Fastify answering constants,
// with the queries the service sent per request counted by PostgreSQL itself.
import { committedTransactions, scratchDatabase } from './lib/database.mjs'
import { authorization, startBare, startService } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { fixed, median, share, summary } from './lib/stats.mjs'
import { wrk } from './lib/wrk.mjs'

const runs = Number(process.env.BENCH_RUNS ?? 3)
const durationS = Number(process.env.BENCH_DURATION_S ?? 5)
const connections = 50
const paths = ['/health/ready', '/migrations/current', '/health/live']

export async function run () {
  const db = await scratchDatabase('http')
  const service = await startService(db.url)
  const bare = await startBare()
  try {
    const up = await fetch(`${service.base}/migrations/upgrade`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: '{}' })
    if (up.status !== 200) throw new Error(`upgrade answered ${up.status}`)
    const results = {}
    for (const path of paths) {
      const ours = []
      const theirs = []
      await wrk({ url: `${bare.base}${path}`, connections, durationS: 1, headers: authorization })
      await wrk({ url: `${service.base}${path}`, connections, durationS: 1, headers: authorization })
      for (let round = 0; round < runs; round++) {
        progress(`http ${path} round ${round + 1}/${runs}`)
        theirs.push(await wrk({ url: `${bare.base}${path}`, connections, durationS, headers: authorization }))
        const before = await committedTransactions(db.name)
        const result = await wrk({ url: `${service.base}${path}`, connections, durationS, headers: authorization })
        // Our own reading of the statistics is one transaction too.
        result.queriesPerRequest = (await committedTransactions(db.name) - before - 1) / result.requests
        ours.push(result)
      }
      results[path] = { ours, theirs }
    }
    return report(results)
  } finally {
    await service.stop()
    await bare.stop()
    await db.drop()
  }
}

function report (results) {
  const rows = paths.map((path) => {
    const { ours, theirs } = results[path]
    const failed = ours.reduce((sum, r) => sum + r.failed, 0)
    return [
      `\`GET ${path}\``,
      summary(ours.map((r) => r.rps), 0),
      summary(theirs.map((r) => r.rps), 0),
      share(ours.map((r) => r.rps), theirs.map((r) => r.rps)),
      summary(ours.map((r) => r.p99)),
      summary(theirs.map((r) => r.p99)),
      summary(ours.map((r) => r.queriesPerRequest), 3),
      String(failed),
    ]
  })
  const section = [
    `### Probes and current at ${connections} connections (wrk, ${runs} runs of ${durationS} s each after a 1 s warm-up)`,
    '',
    table(['endpoint', 'service req/s', 'bare Fastify req/s', 'service / bare', 'service p99 ms', 'bare p99 ms', 'queries per request', 'non-2xx'], rows),
    '',
    'Queries per request: the database\'s `xact_commit` before and after each service run, divided by the requests wrk made (a periodic refresh of cached state counts too).',
  ].join('\n')
  const live = share(results['/health/live'].ours.map((r) => r.rps), results['/health/live'].theirs.map((r) => r.rps))
  const verdicts = ['/health/ready', '/migrations/current'].map((path) => {
    const { ours, theirs } = results[path]
    const part = median(ours.map((r) => r.rps)) / median(theirs.map((r) => r.rps))
    const queries = median(ours.map((r) => r.queriesPerRequest))
    return verdict(`\`${path}\` ≥ 80% of bare Fastify, no query per request`, `${share(ours.map((r) => r.rps), theirs.map((r) => r.rps))}, ${fixed(queries, 3)} queries/request`,
      part >= 0.8 && queries < 0.01, part < 0.8 ? `${fixed(100 * (0.8 - part), 0)} points short; \`/health/live\`, which touches nothing, is at ${live}: the gap is the per-request plugin stack` : queries >= 0.01 ? 'still queries the database per request' : '')
  })
  return { section, verdicts }
}

await runIfMain(import.meta.url, run)
