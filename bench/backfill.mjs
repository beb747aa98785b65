// The sixth revision (model_runs.task_id: column, trigger, batched backfill, index) over a
// million model runs while PATCH /model-runs/{id} and POST /model-runs run steadily, against
// the same change with its backfill done as one UPDATE, on a copy of the same database.
import { loadRevisions, RevisionGraph } from '../dist/migrator/index.js'
import { scratchDatabase, withClient } from './lib/database.mjs'
import { authorization, startService } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { rowsPerTable, seedParents } from './lib/seed.mjs'
import { fixed, percentile } from './lib/stats.mjs'

const writers = Number(process.env.BENCH_WRITERS ?? 8)
const stallGoalMs = 100

/** The revision that adds task_id is the head; its parent is where both runs start. Asked of the graph. */
async function sixthRevision () {
  const graph = RevisionGraph.build(await loadRevisions())
  const [head] = graph.heads
  const revision = graph.get(head)
  if (!revision.up.some((step) => typeof step !== 'string')) throw new Error(`the head ${head} has no backfill step`)
  return revision
}

/** The same revision with its backfill step written as the one UPDATE it amounts to. */
function asSingleUpdate (revision) {
  return revision.up.map((step) => typeof step === 'string' ? step : `UPDATE ${step.backfill.table} SET ${step.backfill.set} WHERE ${step.backfill.where}`)
}

async function seed (url, count) {
  await withClient(url, async (client) => {
    await seedParents(client)
    await client.query(`INSERT INTO model_runs (experiment_id, model_type, status, metadata, created_at)
      SELECT e.ids[1 + g % array_length(e.ids, 1)], 'xgboost', 'running', jsonb_build_object('task_id', 'celery-' || g, 'note', 'seed'),
             now() - make_interval(secs => ($1 - g) * 31.5)
        FROM generate_series(1, $1) g, (SELECT array_agg(id) AS ids FROM experiments) e`, [count])
    await client.query('VACUUM ANALYZE model_runs')
  })
}

/** Writers through the service until stopped: each request's start, latency and status. */
function startWriters (base, ids, experiments) {
  const log = []
  const state = { running: true }
  const pick = (items) => items[Math.floor(Math.random() * items.length)]
  const headers = { ...authorization, 'content-type': 'application/json' }
  const requests = [
    () => [`${base}/model-runs/${pick(ids)}`, { method: 'PATCH', headers, body: JSON.stringify({ metadata: { task_id: `patched-${Math.random().toString(36).slice(2, 10)}` } }) }],
    () => [`${base}/model-runs`, { method: 'POST', headers, body: JSON.stringify({ experimentId: pick(experiments), modelType: 'bench', metadata: { task_id: 'posted' } }) }],
  ]
  const clients = Array.from({ length: writers }, async (_, index) => {
    while (state.running) {
      const [url, init] = requests[index % requests.length]()
      const started = performance.now()
      try {
        const res = await fetch(url, init)
        await res.arrayBuffer()
        log.push({ start: started, ms: performance.now() - started, ok: res.status < 300 })
      } catch {
        log.push({ start: started, ms: performance.now() - started, ok: false })
      }
    }
  })
  return { async stop () { state.running = false; await Promise.all(clients); return log } }
}

async function upgradeThroughService (base, target) {
  const res = await fetch(`${base}/migrations/upgrade`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: JSON.stringify({ target, async: true }) })
  if (res.status !== 202) throw new Error(`upgrade answered ${res.status}: ${await res.text()}`)
  const { id } = await res.json()
  for (;;) {
    const operation = await (await fetch(`${base}/migrations/operations/${id}`, { headers: authorization })).json()
    if (operation.status === 'succeeded') return
    if (operation.status === 'failed') throw new Error(`upgrade failed: ${JSON.stringify(operation.error)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

async function sample (client) {
  const ids = (await client.query('SELECT id FROM model_runs TABLESAMPLE SYSTEM (1) LIMIT 5000')).rows.map((row) => row.id)
  const experiments = (await client.query('SELECT id FROM experiments LIMIT 100')).rows.map((row) => row.id)
  return { ids, experiments }
}

/** One way of making the change, under the write load: its duration and what the writers saw. */
async function measure (label, url, revision, change) {
  const service = await startService(url)
  try {
    const { ids, experiments } = await withClient(url, sample)
    const load = startWriters(service.base, ids, experiments)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    progress(`backfill: ${label}`)
    const started = performance.now()
    await change(service.base)
    const durationMs = performance.now() - started
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const log = await load.stop()
    const during = log.filter((entry) => entry.start >= started && entry.start <= started + durationMs)
    const before = log.filter((entry) => entry.start < started)
    const after = await withClient(url, async (client) => (await client.query(`SELECT pg_total_relation_size('model_runs') AS bytes,
      (SELECT count(*) FROM model_runs WHERE task_id IS DISTINCT FROM metadata ->> 'task_id')::int AS wrong`)).rows[0])
    return {
      label,
      durationMs,
      writes: during.length,
      failed: log.filter((entry) => !entry.ok).length,
      stallMs: Math.max(0, ...during.map((entry) => entry.ms)),
      p99Ms: percentile(during.map((entry) => entry.ms), 99),
      quietP99Ms: percentile(before.map((entry) => entry.ms), 99),
      tableMb: Number(after.bytes) / 1024 / 1024,
      wrong: after.wrong,
    }
  } finally {
    await service.stop()
  }
}

export async function run () {
  const revision = await sixthRevision()
  const [parent] = revision.downRevisions
  const seeded = await scratchDatabase('backfill_seed')
  const copies = []
  try {
    const service = await startService(seeded.url)
    await upgradeThroughService(service.base, parent)
    await service.stop()
    progress(`backfill: seeding ${rowsPerTable} model runs`)
    await seed(seeded.url, rowsPerTable)
    const batched = await scratchDatabase('backfill_batched', seeded.name)
    const single = await scratchDatabase('backfill_single', seeded.name)
    copies.push(batched, single)

    const results = [
      await measure('the revision, batched backfill', batched.url, revision, (base) => upgradeThroughService(base, revision.revision)),
      await measure('the same change, one UPDATE', single.url, revision, async () => withClient(single.url, async (client) => {
        for (const statement of asSingleUpdate(revision)) await client.query(statement)
      })),
    ]
    const [ours, baseline] = results
    const section = [
      `## Backfill: ${revision.revision} over ${rowsPerTable.toLocaleString('en-US')} model runs under ${writers} writers (PATCH and POST /model-runs)`,
      '',
      table(['run', 'duration', 'writes during', 'longest write stall', 'write p99 (during / before)', 'failed writes', 'table size after', 'rows left wrong'],
        results.map((result) => [result.label, `${fixed(result.durationMs / 1000, 1)} s`, String(result.writes), `${fixed(result.stallMs, 0)} ms`,
          `${fixed(result.p99Ms, 0)} / ${fixed(result.quietP99Ms, 0)} ms`, String(result.failed), `${fixed(result.tableMb, 0)} MB`, String(result.wrong)])),
      '',
      `Stall ratio (batched / one UPDATE): ${fixed(ours.stallMs / baseline.stallMs, 3)}; duration ratio: ${fixed(ours.durationMs / baseline.durationMs, 2)}.`,
    ].join('\n')
    return {
      section,
      verdicts: [
        verdict(`longest write stall during the batched backfill < ${stallGoalMs} ms`, `${fixed(ours.stallMs, 0)} ms (one UPDATE: ${fixed(baseline.stallMs, 0)} ms)`, ours.stallMs < stallGoalMs),
        verdict('no failed write', `${ours.failed} (one UPDATE: ${baseline.failed})`, ours.failed === 0),
        verdict('every task_id right after', `${ours.wrong} wrong`, ours.wrong === 0),
      ],
    }
  } finally {
    for (const copy of copies) await copy.drop()
    await seeded.drop()
  }
}

await runIfMain(import.meta.url, run)
