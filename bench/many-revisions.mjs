// `npm run bench:many`: the cost of N revisions. N synthetic revisions in a line
// (`CREATE TABLE t_i (id int)`, down `DROP TABLE t_i`) on top of the seed's graph (the data
// API needs its tables), in the service's migrations directory and in the seed's Alembic
// project, each run on fresh databases in the same run: base → head, head → base, the no-op
// upgrade over the HTTP floor, and start-up to ready.
// BENCH_MANY_SIZES (default 4,100,1000) picks the sizes; BENCH_MANY_CYCLES (default 3) how many
// times each goes up and down (medians); BENCH_ALEMBIC_REF the Alembic project
// (in a worktree the default path does not reach ../shared). Writes bench/RESULTS-many.md when
// BENCH_MANY_WRITE says which table (`before` or `after`) the run fills.
import { spawn } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRevisions, RevisionGraph } from '../dist/migrator/index.js'
import { alembicCommand, alembicProject, findAlembicPython } from './lib/alembic.mjs'
import { scratchDatabase } from './lib/database.mjs'
import { authorization, benchToken, freePort, logLevel, repository } from './lib/processes.mjs'
import { progress, table } from './lib/report.mjs'
import { fixed, median, timed } from './lib/stats.mjs'

const sizes = (process.env.BENCH_MANY_SIZES ?? '4,100,1000').split(',').map(Number)
const noOpCalls = Number(process.env.BENCH_MANY_NOOP_CALLS ?? 300)
const results = new URL('./RESULTS-many.md', import.meta.url)

const idOf = (index) => `m${String(index).padStart(11, '0')}`
const dateOf = (index) => new Date(Date.UTC(2025, 0, 1) + index * 60_000).toISOString()

const shipped = RevisionGraph.build(await loadRevisions(join(repository, 'dist/migrations')))
if (shipped.heads.length !== 1) throw new Error(`the build has ${shipped.heads.length} heads: the synthetic line needs one to stand on`)

/** This build's dist/ with the N synthetic revisions added to its migrations directory. */
async function serviceBuild (n) {
  const dir = await mkdtemp(join(tmpdir(), `aip-bench-many-${n}-`))
  await cp(join(repository, 'dist'), join(dir, 'dist'), { recursive: true })
  for (let i = 1; i <= n; i++) {
    const definition = { revision: idOf(i), downRevisions: [i === 1 ? shipped.heads[0] : idOf(i - 1)], description: `create t_${i}`, createDate: dateOf(i), up: [`CREATE TABLE t_${i} (id int)`], down: [`DROP TABLE t_${i}`] }
    await writeFile(join(dir, 'dist/migrations', `${idOf(i)}_create_t_${i}.js`),
      `import { defineRevision } from '../migrator/revision.js'\n\nexport default defineRevision(${JSON.stringify(definition, null, 2)})\n`)
  }
  await cp(join(repository, 'package.json'), join(dir, 'package.json'))
  await symlink(join(repository, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** The seed's Alembic project's one head: the revision no other script revises. */
async function alembicHead () {
  const scripts = await Promise.all((await readdir(join(alembicProject, 'versions'))).filter((file) => file.endsWith('.py'))
    .map((file) => readFile(join(alembicProject, 'versions', file), 'utf8')))
  const field = (name) => (text) => new RegExp(`^${name} = "([^"]+)"`, 'm').exec(text)?.[1]
  const revised = new Set(scripts.map(field('down_revision')))
  const heads = scripts.map(field('revision')).filter((id) => id !== undefined && !revised.has(id))
  if (heads.length !== 1) throw new Error(`the Alembic project has ${heads.length} heads`)
  return heads[0]
}

/** The seed's Alembic project with the same N version scripts on top. */
async function alembicBuild (n) {
  const dir = await mkdtemp(join(tmpdir(), `aip-bench-many-alembic-${n}-`))
  await cp(alembicProject, dir, { recursive: true })
  const head = await alembicHead()
  for (let i = 1; i <= n; i++) {
    await writeFile(join(dir, 'versions', `${idOf(i)}_create_t_${i}.py`), [
      `"""create t_${i}\n\nRevision ID: ${idOf(i)}\nRevises: ${i === 1 ? head : idOf(i - 1)}\nCreate Date: ${dateOf(i)}\n"""`,
      'from alembic import op',
      '',
      `revision = "${idOf(i)}"`,
      `down_revision = "${i === 1 ? head : idOf(i - 1)}"`,
      'branch_labels = None',
      'depends_on = None',
      '',
      '',
      'def upgrade() -> None:',
      `    op.execute("CREATE TABLE t_${i} (id int)")`,
      '',
      '',
      'def downgrade() -> None:',
      `    op.execute("DROP TABLE t_${i}")`,
      '',
    ].join('\n'))
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

async function until (url, deadline, child) {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`)
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`${url} did not answer 200 in time`)
}

/** The service from `root`, timed from spawn to live and to ready. */
async function startService (root, databaseUrl) {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(process.execPath, [join(root, 'dist/server.js')], {
    cwd: root,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: logLevel,
      DATABASE_URL: databaseUrl,
      API_TOKENS: `admin=${benchToken}`,
      MIGRATE_ON_START: 'false',
      RATE_LIMIT_MIGRATIONS_PER_MINUTE: '1000000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 120_000
  await until(`${base}/health/live`, deadline, child)
  return {
    base,
    ready: async () => {
      await until(`${base}/health/ready`, deadline, child)
      return performance.now() - started
    },
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}

async function post (base, path, target) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: JSON.stringify({ target }) })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`${path} ${target} answered ${res.status}: ${body.slice(0, 500)}`)
}

/**
 * Median of `noOpCalls` calls to each, taken in turns (one call to each, then again), after a
 * warm-up: the machine's load drifts over minutes, and in turns every size sees the same drift.
 */
async function latencies (fns) {
  for (let warm = 0; warm < 50; warm++) for (const fn of fns) await fn()
  const samples = fns.map(() => [])
  for (let call = 0; call < noOpCalls; call++) {
    for (const [index, fn] of fns.entries()) samples[index].push(await timed(fn))
  }
  return samples.map(median)
}

const startRuns = 3
/** Each size goes down and up this many times (the first up on the fresh database): a single run is at the mercy of the machine's load. */
const cycles = Number(process.env.BENCH_MANY_CYCLES ?? 3)

/** After the first upgrade (`firstUp` ms): down, up, …, down; `cycles` of each, timed. */
async function cyclesFrom (firstUp, { down, up }) {
  const ups = [firstUp]
  const downs = []
  for (let cycle = 0; cycle < cycles; cycle++) {
    downs.push(await timed(down))
    if (cycle < cycles - 1) ups.push(await timed(up))
  }
  return { ups, downs }
}

/** Base → head on a fresh database, then `startRuns` starts on it at head (the median: what a rolling restart waits for); left running at head. */
async function serviceAtHead (n) {
  const build = await serviceBuild(n)
  const db = await scratchDatabase(`many${n}`)
  let service = await startService(build.dir, db.url)
  const up = await timed(() => post(service.base, '/migrations/upgrade', 'head'))
  const ready = []
  for (let run = 0; run < startRuns; run++) {
    await service.stop()
    service = await startService(build.dir, db.url)
    ready.push(await service.ready())
  }
  return {
    n,
    service,
    up,
    readyMs: median(ready),
    remove: async () => {
      await service.stop()
      await db.drop()
      await build.remove()
    },
  }
}

async function measureServices (ns) {
  const running = []
  try {
    for (const n of ns) {
      progress(`many revisions: service base → head and start-up at N = ${n}`)
      running.push(await serviceAtHead(n))
    }
    progress('many revisions: no-op upgrades, every size in turn')
    const noOps = await latencies(running.map(({ service }) => () => post(service.base, '/migrations/upgrade', 'head')))
    const lives = await latencies(running.map(({ service }) => async () => { await (await fetch(`${service.base}/health/live`)).arrayBuffer() }))
    const measured = new Map()
    for (const [index, { n, service, up, readyMs }] of running.entries()) {
      progress(`many revisions: service head → base, then ${cycles - 1} more cycles, at N = ${n}`)
      const { ups, downs } = await cyclesFrom(up, {
        down: () => post(service.base, '/migrations/downgrade', 'base'),
        up: () => post(service.base, '/migrations/upgrade', 'head'),
      })
      measured.set(n, { up: median(ups), down: median(downs), noOp: noOps[index], live: lives[index], readyMs })
    }
    return measured
  } finally {
    for (const { remove } of running) await remove()
  }
}

async function measureAlembic (python, n) {
  const project = await alembicBuild(n)
  const db = await scratchDatabase(`manyalembic${n}`)
  try {
    const up = await timed(() => alembicCommand(python, db.url, ['upgrade', 'head'], project.dir))
    const { ups, downs } = await cyclesFrom(up, {
      down: () => alembicCommand(python, db.url, ['downgrade', 'base'], project.dir),
      up: () => alembicCommand(python, db.url, ['upgrade', 'head'], project.dir),
    })
    return { up: median(ups), down: median(downs) }
  } finally {
    await db.drop()
    await project.remove()
  }
}

const seconds = (ms) => `${fixed(ms / 1000)} s`

/** What each revision past the smallest size adds: the seed's own revisions and the HTTP call are not the revisions' cost. */
function rows (measured) {
  const [smallest] = measured
  return measured.map(({ n, service, alembic }) => [
    n.toLocaleString('en'),
    seconds(service.up),
    n === smallest.n ? '' : `${fixed((service.up - smallest.service.up) / (n - smallest.n))} ms`,
    alembic === null ? 'n/a' : seconds(alembic.up),
    seconds(service.down),
    n === smallest.n ? '' : `${fixed((service.down - smallest.service.down) / (n - smallest.n))} ms`,
    alembic === null ? 'n/a' : seconds(alembic.down),
    `${fixed(service.noOp)} ms (+${fixed(service.noOp - service.live)} ms)`,
    seconds(service.readyMs),
  ])
}

const header = ['N', 'service base → head', 'per revision (over the smallest N)', 'Alembic CLI base → head', 'service head → base', 'per revision', 'Alembic CLI head → base', 'no-op upgrade (over /health/live)', 'start to ready (at head)']

async function run () {
  const python = findAlembicPython()
  const services = await measureServices(sizes)
  const measured = []
  for (const n of sizes) {
    progress(`many revisions: alembic at N = ${n}`)
    const reference = python === null ? null : await measureAlembic(python, n)
    measured.push({ n, service: services.get(n), alembic: reference })
  }
  const section = table(header, rows(measured))
  console.log(section)
  const label = process.env.BENCH_MANY_WRITE
  if (label !== undefined) await record(label, section)
}

/** Keeps the other label's table: the before table is measured on the code before the change. */
async function record (label, section) {
  const previous = await readFile(results, 'utf8').catch(() => '')
  const marker = (name) => `<!-- ${name} -->`
  const kept = ['before', 'after'].filter((name) => name !== label).map((name) => {
    const match = previous.match(new RegExp(`${marker(name)}\\n([\\s\\S]*?)\\n${marker(`/${name}`)}`))
    return [name, match?.[1] ?? '_not measured yet_']
  })
  const tables = Object.fromEntries([...kept, [label, `${new Date().toISOString()}\n\n${section}`]])
  const prose = previous.split(marker('before'))[0] || '# Many revisions\n\n'
  await writeFile(results, `${prose}${marker('before')}\n${tables.before}\n${marker('/before')}\n\n${marker('after')}\n${tables.after}\n${marker('/after')}\n`)
}

await run()
