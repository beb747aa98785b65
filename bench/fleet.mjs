// `npm run bench:fleet`: BENCH_FLEET_TARGETS (1,000 by default) schema targets in one database,
// each brought to head through the engine door 8 at a time; then the service, started with a
// TARGETS_FILE naming them all, answers `GET /fleet` from its cache: p50/p95 against
// `/health/live` in the same run, and the service's RSS. Writes bench/RESULTS-fleet-targets.md.
// (The rollout part of the fleet bench is fleet-rollouts'.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openTargetMigrator } from '../dist/fleet/targets/connections.js'
import { loadRevisions, RevisionGraph } from '../dist/migrator/index.js'
import { scratchDatabase } from './lib/database.mjs'
import { authorization, repository, rssMb, startService } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { fixed, percentile } from './lib/stats.mjs'

const targetCount = Number(process.env.BENCH_FLEET_TARGETS ?? 1000)
const requests = Number(process.env.BENCH_FLEET_REQUESTS ?? 500)
const p95GoalMs = 50

const schemaOf = (index) => `tenant_${String(index).padStart(4, '0')}`

/** Sequential requests, one at a time: the latency a dashboard sees, not a throughput. */
async function latencies (url, count) {
  const times = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    const res = await fetch(url, { headers: authorization })
    await res.arrayBuffer()
    if (!res.ok) throw new Error(`${url} answered ${res.status}`)
    times.push(performance.now() - started)
  }
  return times
}

async function migrateAll (url, graph) {
  const started = performance.now()
  const queue = Array.from({ length: targetCount }, (_, index) => index)
  const worker = async () => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      const target = { name: `t${index}`, environment: 'production', labels: {}, schema: schemaOf(index), url, migrationUrl: null, source: 'file' }
      const lease = await openTargetMigrator(target, { graph, instance: 'bench' })
      try {
        await lease.migrator.upgrade({ target: 'head', actor: 'bench' })
      } finally {
        await lease.close()
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return performance.now() - started
}

export async function fleetViewBench () {
  const graph = RevisionGraph.build(await loadRevisions(join(repository, 'dist/migrations')))
  const database = await scratchDatabase('fleet')
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-fleet-'))
  let service = null
  try {
    progress(`bringing ${targetCount} schema targets to head, 8 at a time`)
    const migrateMs = await migrateAll(database.url, graph)
    const targets = Array.from({ length: targetCount }, (_, index) => ({
      name: `t${String(index).padStart(4, '0')}`,
      environment: index % 10 === 0 ? 'testing' : 'production',
      url: '${FLEET_URL}', // eslint-disable-line no-template-curly-in-string -- the targets file's own syntax
      schema: schemaOf(index),
      labels: { tenant: String(index), region: index % 2 === 0 ? 'eu' : 'us' },
    }))
    const file = join(dir, 'targets.json')
    await writeFile(file, JSON.stringify({ environments: ['testing', 'production'], targets }))
    progress('starting the service with the targets file')
    service = await startService(database.url, { TARGETS_FILE: file, FLEET_URL: database.url, MIGRATE_ON_START: 'true' })
    const rssStarted = await rssMb(service.pid)
    const firstStarted = performance.now()
    const first = await (await fetch(`${service.base}/fleet?limit=1`, { headers: authorization })).json()
    const firstMs = performance.now() - firstStarted
    if (first.summary.total !== targetCount + 1) throw new Error(`the fleet has ${first.summary.total} targets, not ${targetCount + 1}`)
    progress(`first GET /fleet (every target read) took ${Math.round(firstMs)} ms; measuring`)
    // Warm both routes' serializers and the connection before timing.
    await latencies(`${service.base}/fleet`, 20)
    await latencies(`${service.base}/health/live`, 20)
    const live = await latencies(`${service.base}/health/live`, requests)
    const page = await latencies(`${service.base}/fleet`, requests)
    const whole = await latencies(`${service.base}/fleet?limit=1000`, Math.min(requests, 200))
    const filtered = await latencies(`${service.base}/fleet?environment=production&label=region:eu&limit=100`, requests)
    const rssAfter = await rssMb(service.pid)
    const row = (name, times) => [name, fixed(percentile(times, 50)), fixed(percentile(times, 95)), fixed(percentile(times, 95) / percentile(live, 95), 1)]
    const p95 = percentile(page, 95)
    const section = [
      `## Fleet view: ${targetCount} schema targets in one database`,
      '',
      `${requests} sequential requests per row after 20 to warm up; Node ${process.version}; one PostgreSQL on the same machine.`,
      `Bringing the ${targetCount} schemas from base to head (the engine door, 8 at a time): ${fixed(migrateMs / 1000, 1)} s (${fixed(migrateMs / targetCount * 8, 0)} ms per target per worker).`,
      `First \`GET /fleet\` after start (every target read, 8 at a time): ${fixed(firstMs / 1000, 2)} s.`,
      '',
      table(['request', 'p50 ms', 'p95 ms', 'p95 vs /health/live'], [
        row('GET /health/live (baseline)', live),
        row('GET /fleet (default page of 100)', page),
        row('GET /fleet?limit=1000', whole),
        row('GET /fleet?environment=production&label=region:eu', filtered),
      ]),
      '',
      `Service RSS: ${fixed(rssStarted, 0)} MB once listening, ${fixed(rssAfter, 0)} MB after the measurements (${targetCount + 1} targets cached).`,
    ].join('\n')
    return { section, verdicts: [verdict(`GET /fleet p95 < ${p95GoalMs} ms at ${targetCount} targets`, `${fixed(p95)} ms`, p95 < p95GoalMs)] }
  } finally {
    await service?.stop()
    await rm(dir, { recursive: true, force: true })
    await database.drop()
  }
}

await runIfMain(import.meta.url, async () => {
  const result = await fleetViewBench()
  const verdicts = table(['target', 'measured', 'verdict'], result.verdicts.map((v) => [v.target, v.measured, v.met ? 'met' : 'missed']))
  await writeFile(join(repository, 'bench/RESULTS-fleet-targets.md'), `# Fleet targets benchmark\n\n\`npm run bench:fleet\`\n\n${result.section}\n\n${verdicts}\n`)
  return result
})
