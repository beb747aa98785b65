// Migration benchmarks, each beside its baseline measured in the same run:
//   - no-op `POST /migrations/upgrade` at head on a warm listening service, against the
//     database's own floor for the same question (one `SELECT` of alembic_version);
//   - upgrade from empty to head through the service, against `psql -1 -f` of the same DDL.
// Run: npm run build && node bench/migrations.mjs   (BENCH_DATABASE_URL, default local postgres)
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { buildApp } from '../dist/app.js'
import { RevisionGraph } from '../dist/migrator/graph.js'
import { loadRevisions } from '../dist/migrator/source.js'

const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const runs = Number(process.env.BENCH_RUNS ?? 5)

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const range = (values) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`

async function admin (sql) {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  await client.query(sql)
  await client.end()
}

async function freshDatabase (label) {
  const name = `aip_bench_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return { name, url: url.toString(), drop: () => admin(`DROP DATABASE ${name} WITH (FORCE)`) }
}

async function app (url) {
  const instance = await buildApp({
    databaseUrl: url,
    config: { auth: { disabled: true, tokens: [] }, lock: { waitMs: 30_000, lockTimeoutMs: 10_000 }, fittedTransformerMaxBytes: 1 },
  })
  await instance.listen({ host: '127.0.0.1', port: 0 })
  const { port } = instance.server.address()
  return { instance, base: `http://127.0.0.1:${port}` }
}

async function timed (fn) {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

async function upgradeFromEmpty () {
  const service = []
  const psql = []
  const graph = RevisionGraph.build(await loadRevisions())
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-'))
  const script = join(dir, 'up.sql')
  await writeFile(script, graph.all().flatMap((revision) => revision.up).map((sql) => `${sql};\n`).join(''))
  for (let run = 0; run < runs; run++) {
    const viaService = await freshDatabase('service')
    const { instance, base } = await app(viaService.url)
    service.push(await timed(async () => {
      const res = await fetch(`${base}/migrations/upgrade`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"target":"head"}' })
      if (res.status !== 200) throw new Error(`upgrade answered ${res.status}`)
    }))
    await instance.close()
    await viaService.drop()

    const viaPsql = await freshDatabase('psql')
    psql.push(await timed(async () => {
      execFileSync('psql', ['-q', '-X', '-1', '-v', 'ON_ERROR_STOP=1', '-d', viaPsql.url, '-f', script])
    }))
    await viaPsql.drop()
  }
  await rm(dir, { recursive: true, force: true })
  return { service, psql }
}

async function noOpUpgrade () {
  const db = await freshDatabase('noop')
  const { instance, base } = await app(db.url)
  const post = () => fetch(`${base}/migrations/upgrade`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"target":"head"}' })
  await post()
  for (let warm = 0; warm < 50; warm++) await (await post()).arrayBuffer()
  const service = []
  for (let call = 0; call < 100; call++) service.push(await timed(async () => { await (await post()).arrayBuffer() }))
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  for (let warm = 0; warm < 50; warm++) await client.query('SELECT version_num FROM alembic_version')
  const floor = []
  for (let call = 0; call < 100; call++) floor.push(await timed(() => client.query('SELECT version_num FROM alembic_version')))
  await client.end()
  await instance.close()
  await db.drop()
  return { service, floor }
}

const noop = await noOpUpgrade()
const empty = await upgradeFromEmpty()
const rows = [
  ['no-op upgrade head (100 calls)', noop.service, 'SELECT alembic_version (floor)', noop.floor],
  [`upgrade base → head (${runs} runs)`, empty.service, 'psql -1 -f of the same DDL', empty.psql],
]
console.log('| measure | service median ms (range) | baseline | baseline median ms (range) | ratio |')
console.log('|---|---|---|---|---|')
for (const [name, ours, baseline, theirs] of rows) {
  console.log(`| ${name} | ${median(ours).toFixed(2)} (${range(ours)}) | ${baseline} | ${median(theirs).toFixed(2)} (${range(theirs)}) | ${(median(ours) / median(theirs)).toFixed(2)}× |`)
}
