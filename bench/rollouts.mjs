// `npm run bench:rollouts`: rollouts through the service, as a deploy starts them.
// 1. BENCH_ROLLOUT_DATABASES (200) databases from base to head at maxParallel 1, then the same
//    number of fresh ones at maxParallel 8: wall clock, and the most connections the service held
//    to them at once, sampled from pg_stat_activity every 100 ms.
// 2. BENCH_ROLLOUT_SCHEMAS (1,000) schema targets in one database at maxParallel 8: time per
//    target, and the service's RSS before and after.
// Writes bench/RESULTS-rollouts.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { localPostmaster, postgresCpuSeconds, processCpuSeconds } from './lib/cpu.mjs'
import { scratchDatabase, serverUrl } from './lib/database.mjs'
import { authorization, repository, rssMb, startService } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { fixed } from './lib/stats.mjs'

const databaseCount = Number(process.env.BENCH_ROLLOUT_DATABASES ?? 200)
const schemaCount = Number(process.env.BENCH_ROLLOUT_SCHEMAS ?? 1000)
const speedupGoal = 3
const connectionAllowance = 4
const rssGoalMb = 50

/** Connections to the named databases now; one client held for the whole bench. */
function connectionSampler (client) {
  return async (databases) => {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1)', [databases])
    return rows[0].n
  }
}

/**
 * CPU seconds so far of the service and of PostgreSQL (every database's backends: the targets',
 * the service's own and the bench's sampling, a query every 100 ms); null fields where /proc cannot tell.
 */
function cpuMeter (servicePid, postmaster) {
  return async () => ({
    service: await processCpuSeconds(servicePid).catch(() => null),
    postgres: postmaster === null ? null : await postgresCpuSeconds(postmaster).catch(() => null),
  })
}

/**
 * POST /rollouts, then its state read until it ends; the most connections to `databases` (the
 * targets') seen meanwhile, and to `own` (the service's database: its API pool and the queue);
 * the CPU the service and PostgreSQL spent on it.
 */
async function timedRollout (base, body, sample, databases, own, cpu) {
  const cpuBefore = await cpu()
  const started = performance.now()
  const created = await fetch(`${base}/rollouts`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (created.status !== 202) throw new Error(`POST /rollouts answered ${created.status}: ${await created.text()}`)
  const { id } = await created.json()
  let most = 0
  let mostOwn = 0
  let lastRead = 0
  for (;;) {
    most = Math.max(most, await sample(databases))
    mostOwn = Math.max(mostOwn, await sample(own))
    if (performance.now() - lastRead > 500) {
      lastRead = performance.now()
      const rollout = await (await fetch(`${base}/rollouts/${id}`, { headers: authorization })).json()
      if (['succeeded', 'failed', 'cancelled'].includes(rollout.status)) {
        if (rollout.status !== 'succeeded') throw new Error(`rollout ${id} ${rollout.status}: ${JSON.stringify(rollout.counts)}`)
        const ms = performance.now() - started
        const cpuAfter = await cpu()
        const spent = (field) => cpuBefore[field] === null || cpuAfter[field] === null ? null : cpuAfter[field] - cpuBefore[field]
        return { ms, most, mostOwn, targets: rollout.targets.length, serviceCpu: spent('service'), postgresCpu: spent('postgres') }
      }
    }
    await sleep(100)
  }
}

async function withService (selfUrl, targetsFile, work) {
  const service = await startService(selfUrl, { TARGETS_FILE: targetsFile, LOG_LEVEL: 'warn' })
  try {
    return await work(service)
  } finally {
    await service.stop()
  }
}

async function databasesBench (dir, sample, postmaster) {
  const home = await scratchDatabase('rollout_home')
  const sets = [[], []]
  try {
    progress(`creating 2 × ${databaseCount} target databases`)
    for (const set of sets) {
      for (let index = 0; index < databaseCount; index++) set.push(await scratchDatabase(`rollout_${sets.indexOf(set)}_${index}`))
    }
    const file = join(dir, 'databases.json')
    await writeFile(file, JSON.stringify({
      environments: ['production'],
      self: { name: 'home', environment: 'production' },
      targets: sets.flatMap((set, which) => set.map((database, index) => ({ name: `db-${which}-${index}`, environment: 'production', url: database.url }))),
    }))
    return await withService(home.url, file, async (service) => {
      await firstSweepDone(service.base)
      const runs = []
      for (const [which, maxParallel] of [[0, 1], [1, 8]]) {
        progress(`${databaseCount} databases, base to head, maxParallel ${maxParallel}`)
        const names = sets[which].map((_, index) => `db-${which}-${index}`)
        const run = await timedRollout(service.base, { targets: names, maxParallel, canary: 0 }, sample, sets[which].map((database) => database.name), [home.name], cpuMeter(service.pid, postmaster))
        progress(`maxParallel ${maxParallel}: ${fixed(run.ms / 1000, 1)} s, at most ${run.most} connections to the targets`)
        runs.push({ maxParallel, ...run })
      }
      return runs
    })
  } finally {
    for (const database of sets.flat()) await database.drop()
    await home.drop()
  }
}

/** Until the fleet view's first sweep has read every target: the service as it runs, before the rollout. */
async function firstSweepDone (base) {
  for (;;) {
    const metrics = await (await fetch(`${base}/metrics`, { headers: authorization })).text()
    if (/^aip_schema_fleet_targets\{state="unchecked"\} 0$/m.test(metrics)) return
    await sleep(500)
  }
}

async function schemasBench (dir, sample, postmaster) {
  const home = await scratchDatabase('rollout_schemas_home')
  const tenants = await scratchDatabase('rollout_schemas')
  try {
    const file = join(dir, 'schemas.json')
    await writeFile(file, JSON.stringify({
      environments: ['production'],
      self: { name: 'home', environment: 'production' },
      targets: Array.from({ length: schemaCount }, (_, index) => ({ name: `s-${index}`, environment: 'production', url: tenants.url, schema: `tenant_${String(index).padStart(4, '0')}` })),
    }))
    return await withService(home.url, file, async (service) => {
      await firstSweepDone(service.base)
      const before = await rssMb(service.pid)
      progress(`${schemaCount} schema targets in one database, base to head, maxParallel 8`)
      const run = await timedRollout(service.base, { targets: Array.from({ length: schemaCount }, (_, index) => `s-${index}`), maxParallel: 8, canary: 0 }, sample, [tenants.name], [home.name], cpuMeter(service.pid, postmaster))
      const after = await rssMb(service.pid)
      progress(`${schemaCount} schemas: ${fixed(run.ms / 1000, 1)} s; RSS ${fixed(before, 0)} → ${fixed(after, 0)} MB`)
      return { ...run, rssBefore: before, rssAfter: after }
    })
  } finally {
    await tenants.drop()
    await home.drop()
  }
}

/** CPU seconds a rollout cost, service and PostgreSQL together; null where /proc could not tell. */
function cpuOf (run) {
  return run.serviceCpu === null || run.postgresCpu === null ? null : run.serviceCpu + run.postgresCpu
}

function cpuPerTarget (run) {
  if (cpuOf(run) === null) return 'n/a'
  return `${fixed(cpuOf(run) * 1000 / run.targets, 0)} ms: ${fixed(run.serviceCpu * 1000 / run.targets, 0)} + ${fixed(run.postgresCpu * 1000 / run.targets, 0)}`
}

/** Cores kept busy on average over the rollout's wall clock. */
function busy (run) {
  return cpuOf(run) === null ? 'n/a' : fixed(cpuOf(run) / (run.ms / 1000), 2)
}

export async function rolloutsBench () {
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-rollouts-'))
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    const postmaster = await localPostmaster(client)
    const [serial, parallel] = await databasesBench(dir, connectionSampler(client), postmaster)
    const schemas = await schemasBench(dir, connectionSampler(client), postmaster)
    const speedup = serial.ms / parallel.ms
    const cores = availableParallelism()
    // maxParallel 8 cannot finish sooner than its CPU spread over every core: the most it can gain on maxParallel 1.
    const parallelCpu = cpuOf(parallel)
    const ceiling = parallelCpu === null ? null : serial.ms / 1000 / (parallelCpu / cores)
    const growth = schemas.rssAfter - schemas.rssBefore
    const section = [
      `## Rollouts through the service: ${databaseCount} databases, and ${schemaCount} schemas of one database`,
      '',
      `Node ${process.version}; one PostgreSQL on the same ${cores}-core machine; every target from base to head (this build's revisions), each rollout started once the fleet view has read every target. Connections: the most backends on the targets' databases at once, sampled every 100 ms from pg_stat_activity; beside them, the most on the service's own database (its API pool and the job queue's, which do not grow with \`maxParallel\`). RSS before: then.`,
      '',
      table(['rollout', 'targets', 'wall clock', 'per target', 'vs maxParallel 1', 'most connections to the targets', 'to its own database', 'CPU per target: service + PostgreSQL', 'cores busy'], [
        [`${databaseCount} databases, maxParallel 1 (baseline)`, String(serial.targets), `${fixed(serial.ms / 1000, 1)} s`, `${fixed(serial.ms / serial.targets, 0)} ms`, '1.00', String(serial.most), String(serial.mostOwn), cpuPerTarget(serial), busy(serial)],
        [`${databaseCount} databases, maxParallel 8`, String(parallel.targets), `${fixed(parallel.ms / 1000, 1)} s`, `${fixed(parallel.ms / parallel.targets, 0)} ms`, fixed(1 / speedup, 2), String(parallel.most), String(parallel.mostOwn), cpuPerTarget(parallel), busy(parallel)],
        [`${schemaCount} schemas of one database, maxParallel 8`, String(schemas.targets), `${fixed(schemas.ms / 1000, 1)} s`, `${fixed(schemas.ms / schemas.targets, 0)} ms`, '-', String(schemas.most), String(schemas.mostOwn), cpuPerTarget(schemas), busy(schemas)],
      ]),
      '',
      `CPU from /proc: the service's process, and PostgreSQL's postmaster with every backend (the targets', the service's own database, the bench's sampling). On ${cores} cores, maxParallel 8 cannot take less than its CPU divided by ${cores}: at most ${fixed(ceiling, 2)}× faster than maxParallel 1 here, which took ${fixed(serial.ms / 1000, 1)} s of wall clock with ${fixed(cpuOf(serial), 1)} s of CPU.`,
      '',
      `Service RSS over the ${schemaCount}-schema rollout: ${fixed(schemas.rssBefore, 0)} MB before, ${fixed(schemas.rssAfter, 0)} MB after (${fixed(growth, 1)} MB).`,
      ...(databaseCount < 200 || schemaCount < 1000 ? ['', `Run with ${databaseCount} databases and ${schemaCount} schemas, smaller than the defaults (200 and 1,000); the goals are read against these numbers.`] : []),
    ].join('\n')
    return {
      section,
      verdicts: [
        verdict(`maxParallel 8 at least ${speedupGoal}× faster than 1`, `${fixed(speedup, 2)}× (the most ${cores} cores allow at this CPU per target: ${fixed(ceiling, 2)}×)`, speedup >= speedupGoal),
        verdict(`connections to the targets ≤ maxParallel + ${connectionAllowance}`, `${serial.most} at 1, ${parallel.most} at 8, ${schemas.most} at 8 over schemas`,
          serial.most <= 1 + connectionAllowance && parallel.most <= 8 + connectionAllowance && schemas.most <= 8 + connectionAllowance),
        verdict(`RSS growth over ${schemaCount} schema targets < ${rssGoalMb} MB`, `${fixed(growth, 1)} MB`, growth < rssGoalMb),
      ],
    }
  } finally {
    await client.end()
    await rm(dir, { recursive: true, force: true })
  }
}

await runIfMain(import.meta.url, async () => {
  const result = await rolloutsBench()
  const verdicts = table(['target', 'measured', 'verdict'], result.verdicts.map((v) => [v.target, v.measured, v.met ? 'met' : 'missed']))
  await writeFile(join(repository, 'bench/RESULTS-rollouts.md'), `# Rollouts benchmark\n\n\`npm run bench:rollouts\` (\`BENCH_ROLLOUT_DATABASES\`, \`BENCH_ROLLOUT_SCHEMAS\`)\n\n${result.section}\n\n${verdicts}\n`)
  return result
})
