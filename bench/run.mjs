// `npm run bench`: every bench in this folder, one after the other, into bench/RESULTS.md.
// Never part of `npm test`. BENCH_ROWS, BENCH_RUNS, BENCH_DURATION_S and BENCH_MIGRATION_RUNS
// shrink it while developing; the defaults are the issue's sizes.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import { alembicVersion, findAlembicPython } from './lib/alembic.mjs'
import { serverVersion } from './lib/database.mjs'
import { logLevel, repository } from './lib/processes.mjs'
import { progress, table } from './lib/report.mjs'
import { rowsPerTable } from './lib/seed.mjs'
import { wrkAvailable } from './lib/wrk.mjs'
import { runMigrations } from './migrations.mjs'
import { run as runHttp } from './http.mjs'
import { run as runData } from './data.mjs'
import { run as runOnline } from './online.mjs'
import { run as runPlan } from './plan.mjs'

if (!wrkAvailable()) {
  process.stderr.write('bench: wrk is needed for the load from a second process (apt-get install wrk)\n')
  process.exit(1)
}

const started = new Date()
const loadBefore = os.loadavg()
const sections = []
const verdicts = []
for (const [name, bench] of [['migrations', runMigrations], ['probes and current', runHttp], ['data', runData], ['online migrations', runOnline], ['plans', runPlan]]) {
  progress(`${name}…`)
  const benchStarted = performance.now()
  const result = await bench()
  sections.push(`${result.section}\n\n_${name}: ${Math.round((performance.now() - benchStarted) / 1000)} s_`)
  verdicts.push(...result.verdicts)
}
const loadAfter = os.loadavg()

const version = (command, args) => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim()
  } catch (error) {
    return (error.stdout || error.stderr || '').split('\n')[0].trim() || 'not found'
  }
}
const dependency = (name) => JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, `file://${repository}`), 'utf8')).version
const python = findAlembicPython()
const cpus = os.cpus()

const document = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (bench/run.mjs); never part of `npm test`. Every figure is set beside a baseline measured in the same run on the same machine: the machine is shared and noisy, so the ratios mean more than the absolute numbers. Medians, with the range over the runs in parentheses.',
  '',
  '## Machine',
  '',
  table(['what', 'value'], [
    ['date', started.toISOString()],
    ['duration', `${Math.round((Date.now() - started.getTime()) / 1000)} s`],
    ['CPU', `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`],
    ['memory', `${Math.round(os.totalmem() / 2 ** 30)} GiB`],
    ['OS', `${os.type()} ${os.release()}`],
    ['load average (1 min) before / after', `${loadBefore[0].toFixed(2)} / ${loadAfter[0].toFixed(2)}`],
    ['Node', process.version],
    ['PostgreSQL server', await serverVersion()],
    ['psql', version('psql', ['--version'])],
    ['wrk', version('wrk', ['--version'])],
    ['Alembic', python === null ? 'not installed' : `${alembicVersion(python)} (${python})`],
    ['fastify / knex / pg', `${dependency('fastify')} / ${dependency('knex')} / ${dependency('pg')}`],
    ['service and bare Fastify log level', logLevel],
    ['rows per big table', rowsPerTable.toLocaleString('en')],
  ]),
  '',
  '## Targets',
  '',
  table(['target', 'measured', 'verdict'], verdicts.map((v) => [v.target, v.measured, v.met ? 'met' : `**missed**${v.why ? `: ${v.why}` : ''}`])),
  '',
  '## Results',
  '',
  sections.join('\n\n'),
  '',
].join('\n')

await writeFile(new URL('RESULTS.md', import.meta.url), document)
progress(`wrote bench/RESULTS.md in ${Math.round((Date.now() - started.getTime()) / 1000)} s`)
