// `npm run bench:rolling`: a rolling deploy as Kubernetes runs it, at BENCH_ROWS model runs
// (1,000,000 by default). The older release (this build less its newest revision, as its
// image would ship it) serves reads, writes and probes while the newer release's upgrade
// applies that revision; then both serve the data lists. Writes bench/RESULTS-rolling.md.
import { spawn } from 'node:child_process'
import { cp, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRevisions, RevisionGraph } from '../dist/migrator/index.js'
import { scratchDatabase, withClient } from './lib/database.mjs'
import { authorization, benchToken, logLevel, repository, startServiceFrom } from './lib/processes.mjs'
import { progress, table } from './lib/report.mjs'
import { rowsPerTable, seedModelRuns, seedParents } from './lib/seed.mjs'
import { percentile } from './lib/stats.mjs'
import { wrk, wrkAvailable } from './lib/wrk.mjs'

const graph = RevisionGraph.build(await loadRevisions(join(repository, 'dist/migrations')))
const [newest] = graph.heads

/** The previous release's image: this build's dist/ without the newest revision's module. */
async function olderBuild () {
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-older-'))
  await cp(join(repository, 'dist'), join(dir, 'dist'), { recursive: true })
  for (const file of await readdir(join(dir, 'dist/migrations'))) {
    if (file.startsWith(`${newest}_`)) await rm(join(dir, 'dist/migrations', file))
  }
  await cp(join(repository, 'package.json'), join(dir, 'package.json'))
  await symlink(join(repository, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

async function post (base, path, body) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const json = await res.json()
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json)}`)
  return json
}

function startTraffic (base, experiments) {
  const child = spawn(process.execPath, [join(repository, 'bench/lib/http-traffic.mjs')], {
    env: { ...process.env, TRAFFIC_BASE_URL: base, TRAFFIC_TOKEN: benchToken, TRAFFIC_EXPERIMENTS: JSON.stringify(experiments) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  const ready = new Promise((resolve) => child.stderr.on('data', (chunk) => { if (String(chunk).includes('ready')) resolve() }))
  return {
    ready,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve(JSON.parse(output)))
      child.kill('SIGTERM')
    }),
  }
}

async function listP99 (base, experimentId) {
  const options = { connections: 50, durationS: Number(process.env.BENCH_DURATION_S ?? 10), headers: authorization }
  const status = await wrk({ ...options, url: `${base}/model-runs?status=completed&limit=50` })
  const experiment = await wrk({ ...options, url: `${base}/model-runs?experimentId=${experimentId}&limit=50` })
  return { status, experiment }
}

async function run () {
  const database = await scratchDatabase('rolling')
  const older = await olderBuild()
  const services = []
  try {
    const oldService = await startServiceFrom(older.dir, database.url, { LOG_LEVEL: logLevel })
    services.push(oldService)
    await post(oldService.base, '/migrations/upgrade', { target: 'head' })
    progress(`rolling: seeding ${rowsPerTable.toLocaleString('en')} model runs`)
    const experiments = await withClient(database.url, async (client) => {
      await seedParents(client)
      await seedModelRuns(client, rowsPerTable, { withStatus: true })
      await client.query('VACUUM ANALYZE model_runs')
      return (await client.query('SELECT id FROM experiments LIMIT 200')).rows.map((row) => row.id)
    })
    const newService = await startServiceFrom(repository, database.url, { LOG_LEVEL: logLevel })
    services.push(newService)

    progress('rolling: data p99 on the older release, before the newest revision')
    const before = await listP99(oldService.base, experiments[0])

    progress(`rolling: the newer release applies ${newest} while the older serves`)
    const traffic = startTraffic(oldService.base, experiments)
    await traffic.ready
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const upgradeStarted = performance.timeOrigin + performance.now()
    const upgrade = await post(newService.base, '/migrations/upgrade', { target: 'head' })
    const upgradeEnded = performance.timeOrigin + performance.now()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const log = (await traffic.stop()).filter((entry) => entry.start >= upgradeStarted && entry.start <= upgradeEnded)

    progress('rolling: data p99 on both releases, after')
    const afterOlder = await listP99(oldService.base, experiments[0])
    const afterNewer = await listP99(newService.base, experiments[0])
    const ready = await fetch(`${oldService.base}/health/ready`).then((res) => res.json())

    const failures = log.filter((entry) => entry.status < 200 || entry.status >= 300)
    const latencies = log.map((entry) => entry.ms)
    const rolling = table(['during the upgrade of the newer release', 'measured'], [
      ['upgrade (the newest revision, online)', `${Math.round(upgradeEnded - upgradeStarted).toLocaleString('en')} ms, ${upgrade.steps.length} step(s)`],
      ['requests answered by the older release', log.length.toLocaleString('en')],
      ['of them not 2xx (readiness 503 included)', String(failures.length)],
      ['its longest stall (slowest request)', `${Math.round(Math.max(...latencies))} ms`],
      ['its p99 during the upgrade', `${percentile(latencies, 99).toFixed(1)} ms`],
      ['its readiness afterwards', `${ready.status} (ahead: ${ready.schema.ahead.join(', ') || 'none'})`],
    ])
    const p99 = (result) => Number.isNaN(result.p99) ? 'n/a' : `${result.p99.toFixed(1)} ms (${Math.round(result.rps)} req/s, ${result.failed} failed)`
    const lists = table(['GET /model-runs, 50 connections', 'older, before', 'older, after (ahead)', 'newer, after'], [
      ['?status=completed', p99(before.status), p99(afterOlder.status), p99(afterNewer.status)],
      ['?experimentId=…', p99(before.experiment), p99(afterOlder.experiment), p99(afterNewer.experiment)],
    ])
    const report = `# Rolling deploy, ${rowsPerTable.toLocaleString('en')} model runs\n\n` +
      `Measured ${new Date().toISOString()} by \`npm run bench:rolling\`: the older release is this build less ${newest}.\n\n${rolling}\n\n${lists}\n`
    await writeFile(join(repository, 'bench/RESULTS-rolling.md'), report)
    process.stdout.write(report)
  } finally {
    await Promise.all(services.map((service) => service.stop()))
    await older.remove()
    await database.drop()
  }
}

if (!wrkAvailable()) {
  process.stderr.write('bench: wrk is needed for the load from a second process (apt-get install wrk)\n')
  process.exit(1)
}
await run()
