// `npm run bench:revision-test`: what `aip-schema test` costs over the shipped revisions, against
// a baseline measured in the same run: the same revisions through the same CLI, `upgrade head`
// then `downgrade base` on a fresh database (one pass each way, no data, no snapshot checks).
// BENCH_REVISION_TEST_CYCLES (default 5) runs of each; medians with their range. Writes
// bench/RESULTS-revision-test.md.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { scratchDatabase, serverVersion } from './lib/database.mjs'
import { repository } from './lib/processes.mjs'
import { median, share, summary, timed } from './lib/stats.mjs'

const cycles = Number(process.env.BENCH_REVISION_TEST_CYCLES ?? 5)
const cli = join(repository, 'dist/cli/main.js')

async function aipSchema (args, databaseUrl) {
  const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (chunk) => { stdout += chunk })
  const [code] = await once(child, 'exit')
  if (code !== 0) throw new Error(`aip-schema ${args.join(' ')} exited ${code}: ${stdout}`)
  return stdout
}

const baseline = []
const ours = []
const perRevision = new Map()
for (let cycle = 0; cycle < cycles; cycle++) {
  const database = await scratchDatabase('revision_test')
  try {
    baseline.push(await timed(async () => {
      await aipSchema(['upgrade', 'head', '--json'], database.url)
      await aipSchema(['downgrade', 'base', '--json'], database.url)
    }))
    let report
    ours.push(await timed(async () => { report = JSON.parse(await aipSchema(['test', '--json'], database.url)) }))
    if (!report.ok) throw new Error(`aip-schema test failed: ${JSON.stringify(report)}`)
    for (const { revision, up, down, reup } of report.revisions) {
      const times = perRevision.get(revision) ?? { up: [], down: [], reup: [] }
      times.up.push(up.ms)
      times.down.push(down.ms)
      times.reup.push(reup.ms)
      perRevision.set(revision, times)
    }
  } finally {
    await database.drop()
  }
  process.stderr.write(`cycle ${cycle + 1}/${cycles}\n`)
}

const lines = [
  '# `aip-schema test` over the shipped revisions',
  '',
  `PostgreSQL ${await serverVersion()}, Node ${process.version}, ${cycles} runs each, medians (min–max), ms of wall time for the whole process.`,
  '',
  '| run | ms | vs baseline |',
  '|---|---|---|',
  `| baseline: \`upgrade head\` + \`downgrade base\` (two processes, no data) | ${summary(baseline, 0)} | 100% |`,
  `| \`aip-schema test\` (graph checks, scratch database, stairway with rows, snapshots) | ${summary(ours, 0)} | ${share(ours, baseline)} |`,
  '',
  'Per revision, as `--json` reports it (ms, medians):',
  '',
  '| revision | up | down | re-up |',
  '|---|---|---|---|',
  ...[...perRevision].map(([revision, times]) => `| ${revision} | ${median(times.up)} | ${median(times.down)} | ${median(times.reup)} |`),
  '',
]
await writeFile(new URL('./RESULTS-revision-test.md', import.meta.url), lines.join('\n'))
console.log(lines.join('\n'))
