// Online migrations: with a million rows in model_runs and preprocessing_steps and a steady
// stream of reads and writes, revisions b2c3d4e5f6g7 and c3d4e5f6g7h8 are applied through the
// engine, first as the seed wrote them (one transaction each), then as they ship (online). The
// figure is the longest a client waited while the migration ran.
import { spawn } from 'node:child_process'
import { buildApp } from '../dist/app.js'
import { scratchDatabase, withClient } from './lib/database.mjs'
import { repository } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { rowsPerTable, seedModelRuns, seedParents, seedPreprocessingSteps } from './lib/seed.mjs'
import { fixed, percentile } from './lib/stats.mjs'
import { naiveMigrationsDirectory } from './naive/directory.mjs'

const settleMs = 2_000
const config = { auth: { disabled: true, tokens: [] }, lock: { waitMs: 30_000, lockTimeoutMs: 10_000 }, fittedTransformerMaxBytes: 1 }

async function upgrade (url, target, migrationsDir) {
  const app = await buildApp({ databaseUrl: url, config, migrationsDir, dataApi: false })
  try {
    await app.ready()
    const started = Date.now()
    const res = await app.inject({ method: 'POST', url: '/migrations/upgrade', payload: { target } })
    const finished = Date.now()
    if (res.statusCode !== 200) throw new Error(`upgrade to ${target} answered ${res.statusCode}: ${res.body}`)
    return { started, finished, steps: res.json().steps }
  } finally {
    await app.close()
  }
}

function startTraffic (url) {
  const child = spawn(process.execPath, ['bench/lib/traffic.mjs'], { cwd: repository, env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => { output += chunk })
  const ready = new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => { if (String(chunk).includes('traffic: ready')) resolve() })
    child.once('exit', (code) => reject(new Error(`traffic exited with ${code}`)))
  })
  const stop = () => new Promise((resolve) => {
    child.removeAllListeners('exit')
    child.once('exit', () => resolve(JSON.parse(output)))
    child.kill('SIGTERM')
  })
  return { ready, stop }
}

async function seededTemplate () {
  const template = await scratchDatabase('online_seed')
  await upgrade(template.url, 'a1b2c3d4e5f6')
  progress(`online: seeding ${rowsPerTable} model runs and ${rowsPerTable} preprocessing steps`)
  await withClient(template.url, async (client) => {
    await seedParents(client)
    await seedModelRuns(client, rowsPerTable, { withStatus: false })
    await seedPreprocessingSteps(client, rowsPerTable)
    await client.query('VACUUM ANALYZE')
  })
  return template
}

async function measure (template, variant, migrationsDir) {
  const db = await scratchDatabase(`online_${variant}`, template.name)
  try {
    const traffic = startTraffic(db.url)
    await traffic.ready
    await new Promise((resolve) => setTimeout(resolve, settleMs))
    progress(`online: applying b2c3d4e5f6g7 and c3d4e5f6g7h8 (${variant}) under traffic`)
    const migration = await upgrade(db.url, 'head', migrationsDir)
    await new Promise((resolve) => setTimeout(resolve, settleMs))
    const log = await traffic.stop()
    const during = log.filter((op) => op.start < migration.finished && op.start + op.ms > migration.started)
    const before = log.filter((op) => op.start + op.ms < migration.started)
    const latencies = (ops) => ops.map((op) => op.ms)
    const worst = (ops) => ops.reduce((max, op) => op.ms > max.ms ? op : max, { ms: 0, kind: 'none' })
    return {
      variant,
      migrationMs: migration.finished - migration.started,
      steps: migration.steps.map((step) => `${step.revision} ${fixed(step.durationMs, 0)} ms`).join(', '),
      before: { max: Math.max(...latencies(before)), p99: percentile(latencies(before), 99), count: before.length },
      during: { max: worst(during).ms, worstKind: worst(during).kind, p99: percentile(latencies(during), 99), count: during.length },
      errors: log.filter((op) => op.error !== undefined).length,
    }
  } finally {
    await db.drop()
  }
}

export async function run () {
  const template = await seededTemplate()
  const naive = await naiveMigrationsDirectory()
  try {
    const results = [await measure(template, 'naive', naive.dir), await measure(template, 'online', undefined)]
    return report(results)
  } finally {
    await naive.remove()
    await template.drop()
  }
}

function report (results) {
  const rows = results.map((r) => [
    r.variant === 'naive' ? 'as the seed wrote them (one transaction each)' : '**as they ship** (NOT VALID + VALIDATE, CONCURRENTLY)',
    fixed(r.migrationMs, 0),
    r.steps,
    `${fixed(r.during.max, 1)} (${r.during.worstKind})`,
    fixed(r.during.p99, 1),
    String(r.during.count),
    `${fixed(r.before.max, 1)} / ${fixed(r.before.p99, 1)}`,
    String(r.errors),
  ])
  const [naive, online] = results
  const section = [
    `### Online migrations over ${rowsPerTable.toLocaleString('en')} rows in model_runs and in preprocessing_steps`,
    '',
    'Six clients (four readers, two writers, 5 ms apart) run against both tables from another process; b2c3d4e5f6g7 and c3d4e5f6g7h8 are applied through the engine meanwhile. The stall is the longest any one of their operations took while the migration ran.',
    '',
    table(['revisions', 'migration ms', 'steps', 'longest stall ms (operation)', 'p99 during ms', 'operations during', 'before: max / p99 ms', 'errors'], rows),
  ].join('\n')
  const verdicts = [verdict('online revisions do not stall traffic (longest stall against the naive form)',
    `${fixed(online.during.max, 0)} ms vs ${fixed(naive.during.max, 0)} ms naive (${fixed(naive.during.max / Math.max(online.during.max, 0.001), 1)}× shorter)`,
    online.during.max < naive.during.max / 2 && online.errors === 0,
    online.errors > 0 ? `${online.errors} client errors` : 'the stall was not halved')]
  return { section, verdicts }
}

await runIfMain(import.meta.url, run)
