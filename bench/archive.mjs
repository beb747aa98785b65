// The cost of archiving on the round trip: drop a jsonb column of a million model runs and add it
// back (upgrade, then downgrade), with the archive (the column copied before the drop, restored
// by primary key after the add) and without it (`archive: { enabled: false }`), on copies of one
// seeded database. Writes bench/RESULTS-archive.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knexFactory from 'knex'
import { createMigrator, loadRevisions, RevisionGraph } from '../dist/migrator/index.js'
import { scratchDatabase, serverVersion, withClient } from './lib/database.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { rowsPerTable } from './lib/seed.mjs'
import { fixed, median, timed } from './lib/stats.mjs'

const runs = Number(process.env.BENCH_RUNS ?? 3)
const results = new URL('./RESULTS-archive.md', import.meta.url)

const createRuns = `CREATE TABLE model_runs (
  id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  model_type varchar(100) NOT NULL,
  metrics jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
)`

function revisions (archive) {
  return [
    { revision: 'bench0000001', downRevisions: [], description: 'model runs', createDate: '2025-01-01T00:00:00.000Z', up: [createRuns], down: ['DROP TABLE model_runs'] },
    {
      revision: 'bench0000002',
      downRevisions: ['bench0000001'],
      description: 'drop the metrics of model runs',
      createDate: '2025-01-01T00:01:00.000Z',
      ...(archive ? {} : { archive: { enabled: false, reason: 'the baseline of the benchmark' } }),
      up: ['ALTER TABLE model_runs DROP COLUMN metrics'],
      down: ['ALTER TABLE model_runs ADD COLUMN metrics jsonb'],
    },
  ]
}

async function revisionsDir (archive) {
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-archive-'))
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  for (const definition of revisions(archive)) await writeFile(join(dir, `${definition.revision}.js`), `export default ${JSON.stringify(definition)}\n`)
  return dir
}

/** One round trip on a fresh copy of the seeded template: the drop, the re-add, and what it left. */
async function roundTrip (template, archive) {
  const db = await scratchDatabase(archive ? 'archive_on' : 'archive_off', template)
  const dir = await revisionsDir(archive)
  const knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } })
  try {
    const migrator = createMigrator({ knex, graph: RevisionGraph.build(await loadRevisions(dir)), instance: 'bench' })
    const dropMs = await timed(() => migrator.upgrade({ target: 'bench0000002', actor: 'bench' }))
    const archives = await migrator.archives()
    const addMs = await timed(() => migrator.downgrade({ target: 'bench0000001', actor: 'bench' }))
    const kept = Number((await knex.raw('SELECT count(metrics) AS n FROM model_runs')).rows[0].n)
    return { dropMs, addMs, bytes: archives[0]?.bytes ?? 0, rows: archives[0]?.rows ?? 0, kept }
  } finally {
    await knex.destroy()
    await rm(dir, { recursive: true, force: true })
    await db.drop()
  }
}

export async function run () {
  const template = await scratchDatabase('archive_template')
  try {
    progress(`archive: seeding ${rowsPerTable} model runs`)
    const dir = await revisionsDir(true)
    const knex = knexFactory({ client: 'pg', connection: template.url, pool: { min: 0, max: 2 } })
    try {
      await createMigrator({ knex, graph: RevisionGraph.build(await loadRevisions(dir)), instance: 'bench' }).upgrade({ target: 'bench0000001', actor: 'bench' })
    } finally {
      await knex.destroy()
      await rm(dir, { recursive: true, force: true })
    }
    await withClient(template.url, async (client) => {
      await client.query(`INSERT INTO model_runs (model_type, metrics)
        SELECT (ARRAY['xgboost', 'random_forest', 'linear'])[1 + g % 3], jsonb_build_object('accuracy', (g % 1000) / 1000.0, 'f1', (g % 997) / 997.0, 'loss', g % 50)
          FROM generate_series(1, $1) g`, [rowsPerTable])
      await client.query('VACUUM ANALYZE model_runs')
    })
    const measured = { on: [], off: [] }
    for (let index = 0; index < runs; index++) {
      for (const archive of [false, true]) {
        progress(`archive: round trip ${index + 1}/${runs} ${archive ? 'with' : 'without'} the archive`)
        measured[archive ? 'on' : 'off'].push(await roundTrip(template.name, archive))
      }
    }
    const med = (list, key) => median(list.map((entry) => entry[key]))
    const rows = [['without the archive (baseline)', 'off'], ['with the archive', 'on']].map(([label, key]) => {
      const list = measured[key]
      const total = median(list.map((entry) => entry.dropMs + entry.addMs))
      return [label, fixed(med(list, 'dropMs'), 0), fixed(med(list, 'addMs'), 0), fixed(total, 0), fixed(total / median(measured.off.map((entry) => entry.dropMs + entry.addMs)), 2), `${fixed(med(list, 'bytes') / 1024 / 1024, 1)} MiB`, String(list[0].kept)]
    })
    const version = await serverVersion()
    const section = [
      '# Archive on the round trip',
      '',
      `Drop a jsonb column of ${rowsPerTable.toLocaleString('en')} model runs (upgrade) and add it back (downgrade), median of ${runs} runs each, on copies of one seeded database; PostgreSQL ${version}. Times in ms.`,
      '',
      table(['round trip', 'drop (upgrade)', 're-add (downgrade)', 'total', 'vs baseline', 'archive size', 'metrics back after the round trip'], rows),
    ].join('\n')
    const restoredAll = measured.on.every((entry) => entry.kept === rowsPerTable)
    const verdicts = [verdict('the round trip brings back every value', `${measured.on[0]?.kept ?? 0} of ${rowsPerTable}`, restoredAll)]
    await writeFile(results, `${section}\n`)
    return { section, verdicts }
  } finally {
    await template.drop()
  }
}

await runIfMain(import.meta.url, run)
