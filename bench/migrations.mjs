// Migration benchmarks, each beside its baselines measured in the same run:
//   - no-op `POST /migrations/upgrade` at head on a warm service process, against the
//     database's own floor for the question, bare Fastify's HTTP round trip, Knex's
//     `migrate.latest()` and Alembic's in-process no-op;
//   - upgrade from empty to head through the service, against `psql -f` of the very DDL the
//     revisions issue (the floor), the seed's naive DDL as one `psql -1 -f` script, Knex's
//     `migrate.latest()` and Alembic, in process and as a command;
//   - `alembic current`, and the command line (`aip-schema upgrade head` at head) when built.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knexFactory from 'knex'
import pg from 'pg'
import { loadRevisions, preparedOnPool, recordNoOpUpgrade, RevisionGraph } from '../dist/migrator/index.js'
import { alembicCommand, alembicInProcess, findAlembicPython } from './lib/alembic.mjs'
import { scratchDatabase, serverUrl } from './lib/database.mjs'
import { authorization, repository, startBare, startService } from './lib/processes.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { fixed, median, summary, timed } from './lib/stats.mjs'
import { naiveRevisions } from './naive/revisions.mjs'

const runs = Number(process.env.BENCH_MIGRATION_RUNS ?? 5)
const calls = 200
const rounds = 3

const run = (command, args, options = {}) => new Promise((resolve, reject) => {
  execFile(command, args, options, (error, stdout) => error ? reject(error) : resolve(stdout))
})

async function postUpgrade (base) {
  const res = await fetch(`${base}/migrations/upgrade`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/json' }, body: '{"target":"head"}' })
  const body = await res.arrayBuffer()
  if (res.status !== 200) throw new Error(`upgrade answered ${res.status}: ${Buffer.from(body).toString()}`)
}

/** The latest operation's own duration as the audit log recorded it: lock, revisions and records, no HTTP. */
async function lastOperationMs (base) {
  const res = await fetch(`${base}/migrations/operations?limit=1`, { headers: authorization })
  const [operation] = (await res.json()).operations
  return Date.parse(operation.finishedAt) - Date.parse(operation.startedAt)
}

/** Median of each round of `calls` sequential calls, after a warm-up. */
async function sequential (fn) {
  for (let warm = 0; warm < 50; warm++) await fn()
  const medians = []
  for (let round = 0; round < rounds; round++) {
    const samples = []
    for (let call = 0; call < calls; call++) samples.push(await timed(fn))
    medians.push(median(samples))
  }
  return medians
}

async function noOpUpgrade () {
  const db = await scratchDatabase('noop')
  const service = await startService(db.url)
  const bare = await startBare()
  const client = new pg.Client({ connectionString: db.url })
  const knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 1, max: 1 } })
  try {
    await postUpgrade(service.base)
    progress('migrations: no-op upgrade')
    const ours = await sequential(() => postUpgrade(service.base))
    const http = await sequential(async () => { await (await fetch(`${bare.base}/health/live`)).arrayBuffer() })
    await client.connect()
    const floor = await sequential(() => client.query('SELECT version_num FROM alembic_version'))
    const graph = RevisionGraph.build(await loadRevisions())
    const entry = {
      target: 'head',
      actor: 'bench',
      instance: 'bench',
      heads: graph.heads,
      checksums: Object.fromEntries(graph.all().map((revision) => [revision.revision, revision.checksum])),
    }
    const prepared = preparedOnPool(knex)
    const statement = await sequential(async () => {
      if (!(await recordNoOpUpgrade(prepared, entry)).recorded) throw new Error('the no-op statement recorded nothing')
    })
    return { ours, http, floor, statement }
  } finally {
    await knex.destroy()
    await client.end().catch(() => undefined)
    await service.stop()
    await bare.stop()
    await db.drop()
  }
}

async function scripts () {
  const revisions = RevisionGraph.build(await loadRevisions()).all()
  const naive = revisions.map((revision) => naiveRevisions.find((candidate) => candidate.revision === revision.revision) ?? revision)
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-ddl-'))
  const current = join(dir, 'current.sql')
  const seed = join(dir, 'seed.sql')
  await writeFile(current, revisions.flatMap((revision) => revision.up).map((sql) => `${sql};\n`).join(''))
  await writeFile(seed, naive.flatMap((revision) => revision.up).map((sql) => `${sql};\n`).join(''))
  return { revisions, current, seed, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** Knex's own migrator over the same revisions, as a Knex user would run them. */
function knexSource (revisions) {
  return {
    getMigrations: async () => revisions,
    getMigrationName: (revision) => revision.revision,
    getMigration: async (revision) => ({
      config: { transaction: revision.transactional },
      up: async (knex) => { for (const sql of revision.up) await knex.raw(sql) },
      down: async (knex) => { for (const sql of revision.down) await knex.raw(sql) },
    }),
  }
}

async function fromEmpty (ddl) {
  const results = { service: [], serviceOwn: [], psql: [], psqlSeed: [], knex: [], knexNoOp: [] }
  // Every service starts first, together (start-up is not what is measured, and it is slow).
  const databases = await Promise.all(Array.from({ length: runs }, () => scratchDatabase('empty')))
  const services = await Promise.all(databases.map((database) => startService(database.url)))
  for (let round = 0; round < runs; round++) {
    progress(`migrations: upgrade from empty ${round + 1}/${runs}`)
    results.service.push(await timed(() => postUpgrade(services[round].base)))
    results.serviceOwn.push(await lastOperationMs(services[round].base))
    await services[round].stop()
    await databases[round].drop()

    for (const [key, args] of [['psql', ['-f', ddl.current]], ['psqlSeed', ['-1', '-f', ddl.seed]]]) {
      const viaPsql = await scratchDatabase('psql')
      results[key].push(await timed(() => run('psql', ['-q', '-X', '-v', 'ON_ERROR_STOP=1', '-d', viaPsql.url, ...args])))
      await viaPsql.drop()
    }

    const viaKnex = await scratchDatabase('knex')
    const knex = knexFactory({ client: 'pg', connection: viaKnex.url, pool: { min: 1, max: 2 } })
    const config = { migrationSource: knexSource(ddl.revisions) }
    await knex.raw('SELECT 1')
    results.knex.push(await timed(() => knex.migrate.latest(config)))
    for (let warm = 0; warm < 5; warm++) await knex.migrate.latest(config)
    const noOps = []
    for (let call = 0; call < 50; call++) noOps.push(await timed(() => knex.migrate.latest(config)))
    results.knexNoOp.push(median(noOps))
    await knex.destroy()
    await viaKnex.drop()
  }
  return results
}

async function alembic (python) {
  progress('migrations: alembic in process')
  const inProcess = await alembicInProcess(python, serverUrl, runs)
  const commands = { upgrade: [], noOp: [], current: [] }
  for (let round = 0; round < runs; round++) {
    progress(`migrations: alembic commands ${round + 1}/${runs}`)
    const db = await scratchDatabase('alembic')
    commands.upgrade.push(await timed(() => alembicCommand(python, db.url, ['upgrade', 'head'])))
    commands.noOp.push(await timed(() => alembicCommand(python, db.url, ['upgrade', 'head'])))
    commands.current.push(await timed(() => alembicCommand(python, db.url, ['current'])))
    await db.drop()
  }
  return { inProcess, commands }
}

async function commandLine () {
  const cli = join(repository, 'dist/cli/main.js')
  if (!existsSync(cli)) return null
  const db = await scratchDatabase('cli')
  try {
    const env = { ...process.env, DATABASE_URL: db.url }
    await run(process.execPath, [cli, 'upgrade', 'head'], { env })
    const upgrade = []
    const current = []
    for (let round = 0; round < runs; round++) {
      progress(`migrations: command line ${round + 1}/${runs}`)
      upgrade.push(await timed(() => run(process.execPath, [cli, 'upgrade', 'head'], { env })))
      current.push(await timed(() => run(process.execPath, [cli, 'current'], { env })))
    }
    return { upgrade, current }
  } finally {
    await db.drop()
  }
}

export async function runMigrations () {
  const ddl = await scripts()
  try {
    const noop = await noOpUpgrade()
    const empty = await fromEmpty(ddl)
    const python = findAlembicPython()
    const reference = python === null ? null : await alembic(python)
    const cli = await commandLine()
    return report({ noop, empty, reference, cli, statements: ddl.revisions.flatMap((revision) => revision.up).length })
  } finally {
    await ddl.remove()
  }
}

/** Why the service's from-empty time is above an in-process baseline's, with the margin. */
function slower (ours, theirs, baseline) {
  if (ours < theirs) return ''
  return `${fixed(ours - theirs, 0)} ms over: ${baseline} runs in a warm process on an open connection; the service's figure is a fresh process's first migration through HTTP, with the cluster-wide lock, the audit log and its bookkeeping tables created first`
}

function report ({ noop, empty, reference, cli, statements }) {
  const row = (name, values, baseline) => [name, summary(values), baseline === undefined ? '' : `${fixed(median(values) / median(baseline))}×`]
  const noOpRows = [
    row('**service** `POST /migrations/upgrade` at head (warm process, HTTP)', noop.ours, noop.floor),
    row('`SELECT version_num FROM alembic_version` (one round trip: the floor)', noop.floor, noop.floor),
    row('the no-op\'s one statement (check + audit row) through a bare Knex connection', noop.statement, noop.floor),
    row('bare Fastify `GET /health/live` (the HTTP round trip)', noop.http, noop.floor),
    row('Knex `migrate.latest()` at head, in process', empty.knexNoOp, noop.floor),
  ]
  if (reference !== null) noOpRows.push(row('Alembic `command.upgrade(cfg, "head")` at head, in process (shared connection)', reference.inProcess.shared.noop, noop.floor))
  const emptyRows = [
    row('**service** `POST /migrations/upgrade` base → head (HTTP, a fresh service\'s first migration)', empty.service, empty.psql),
    row('the same operation\'s own time in the audit log (lock, revisions, records; no HTTP, no first-time bookkeeping tables)', empty.serviceOwn, empty.psql),
    row(`\`psql -f\` of the ${statements} statements the revisions issue (the floor)`, empty.psql, empty.psql),
    row('`psql -1 -f` of the seed\'s naive DDL, one transaction', empty.psqlSeed, empty.psql),
    row('Knex `migrate.latest()` base → head, in process', empty.knex, empty.psql),
  ]
  if (reference !== null) {
    emptyRows.push(row('Alembic `command.upgrade` base → head, in process (shared connection)', reference.inProcess.shared.upgrade, empty.psql))
    emptyRows.push(row('Alembic `command.upgrade` base → head, in process (own engine)', reference.inProcess.url.upgrade, empty.psql))
  }
  const commandRows = []
  if (reference !== null) {
    commandRows.push(row('`alembic upgrade head` from empty (whole process)', reference.commands.upgrade))
    commandRows.push(row('`alembic upgrade head` at head (whole process)', reference.commands.noOp, reference.commands.noOp))
    commandRows.push(row('`alembic current` (whole process)', reference.commands.current, reference.commands.current))
  }
  if (cli !== null) {
    commandRows.push(row('**`aip-schema upgrade head`** at head (whole process)', cli.upgrade, reference?.commands.noOp))
    commandRows.push(row('**`aip-schema current`** (whole process)', cli.current, reference?.commands.current))
  }
  const section = [
    `### No-op upgrade (${rounds} rounds of ${calls} sequential calls after 50 warm-up; median of each round)`,
    '',
    table(['what', 'median ms (range of round medians)', '× floor'], noOpRows),
    '',
    `### Upgrade from empty (${runs} runs, each on a fresh database)`,
    '',
    table(['what', 'median ms (range)', '× psql floor'], emptyRows),
    '',
    ...(commandRows.length > 0 ? [`### Commands (${runs} runs each)`, '', table(['what', 'median ms (range)', '× alembic'], commandRows), ''] : []),
    reference === null ? '_Alembic was not found here (`python3 -c "import alembic, psycopg2"` failed): its rows are left out._' : '',
    cli === null ? '_`dist/cli/main.js` was not built: no command-line row._' : '',
  ].join('\n')

  const noOpMs = median(noop.ours)
  const emptyRatio = median(empty.service) / median(empty.psql)
  const verdicts = [
    verdict('no-op upgrade median < 2 ms on a warm service', `${fixed(noOpMs)} ms`, noOpMs < 2, noOpMs >= 2 ? `${fixed(noOpMs - 2)} ms over` : ''),
    verdict('upgrade from empty within 1.5× of `psql -f` of the same DDL', `${fixed(emptyRatio)}×`, emptyRatio <= 1.5, emptyRatio > 1.5 ? `${fixed(emptyRatio - 1.5)}× over` : ''),
    verdict('upgrade from empty below Knex `migrate.latest()` in process', `${fixed(median(empty.service))} ms (own ${fixed(median(empty.serviceOwn))}) vs ${fixed(median(empty.knex))} ms`,
      median(empty.service) < median(empty.knex), slower(median(empty.service), median(empty.knex), 'Knex (the same revisions, each in its own transaction or none)')),
  ]
  if (reference !== null) {
    const alembicMs = median(reference.inProcess.shared.upgrade)
    verdicts.push(verdict('upgrade from empty below Alembic in process', `${fixed(median(empty.service))} ms (own ${fixed(median(empty.serviceOwn))}) vs ${fixed(alembicMs)} ms`,
      median(empty.service) < alembicMs, slower(median(empty.service), alembicMs, 'Alembic (the seed\'s naive DDL, all four revisions in one transaction, no CREATE INDEX CONCURRENTLY)')))
  }
  if (cli !== null && reference !== null) {
    const cliRatio = median(cli.upgrade) / median(reference.commands.noOp)
    verdicts.push(verdict('`aip-schema upgrade head` at head ≤ 0.7× `alembic upgrade head`', `${fixed(cliRatio)}×`, cliRatio <= 0.7, cliRatio > 0.7 ? `${fixed(cliRatio - 0.7)}× over` : ''))
  }
  return { section, verdicts }
}

await runIfMain(import.meta.url, runMigrations)
