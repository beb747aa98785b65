// `npm run bench:status-page`: the status page in Debian's Chromium, against this build's app.
// For the seed's graph (this build's revisions, the database at head: the baseline), and N
// synthetic revisions as a line and as diamonds (a branch and a merge every ten), each page
// loaded BENCH_STATUS_LOADS times (default 5, medians): the page's first render (navigation
// to every panel's first answer) and the graph's layout and drawing (`status-page:graph`).
// Targets (issue 25): first render under 1 s with the seed's graph, 1,000 revisions laid out
// and drawn under 2 s. Writes bench/RESULTS-status-page.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { buildApp } from '../dist/app.js'
import { scratchDatabase } from './lib/database.mjs'
import { progress, runIfMain, table, verdict } from './lib/report.mjs'
import { fixed, median } from './lib/stats.mjs'

const loads = Number(process.env.BENCH_STATUS_LOADS ?? 5)
const sizes = (process.env.BENCH_STATUS_SIZES ?? '100,1000,2000').split(',').map(Number)
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const results = new URL('./RESULTS-status-page.md', import.meta.url)

const idOf = (index) => `s${String(index).padStart(11, '0')}`
const definition = (index, downRevisions) => ({ revision: idOf(index), downRevisions, description: `create t_${index}`, createDate: new Date(Date.UTC(2025, 0, 1) + index * 60_000).toISOString(), up: [`CREATE TABLE t_${index} (id int)`], down: [`DROP TABLE t_${index}`] })

/** A line: each revision on the one before. */
const line = (n) => Array.from({ length: n }, (_, i) => definition(i + 1, i === 0 ? [] : [idOf(i)]))

/** Diamonds of ten: a fork, two branches of four, their merge; the next fork on that merge. */
function diamonds (n) {
  const revisions = []
  for (let i = 1; i <= n; i++) {
    const offset = (i - 1) % 10
    const block = i - offset
    const parents = offset === 0
      ? (i === 1 ? [] : [idOf(i - 1)])
      : offset === 1 || offset === 5
        ? [idOf(block)]
        : offset === 9
          ? [idOf(block + 4), idOf(block + 8)]
          : [idOf(i - 1)]
    revisions.push(definition(i, parents))
  }
  return revisions
}

async function revisionsDir (definitions) {
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-status-'))
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  await Promise.all(definitions.map((entry) => writeFile(join(dir, `${entry.revision}.js`), `export default ${JSON.stringify(entry)}\n`)))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

async function measure (browser, label, migrationsDir, atHead) {
  const database = await scratchDatabase('status')
  const app = await buildApp({
    databaseUrl: database.url,
    migrationsDir,
    dataApi: migrationsDir === undefined,
    config: { auth: { disabled: true, tokens: [] }, lock: { waitMs: 30_000, lockTimeoutMs: 10_000 }, fittedTransformerMaxBytes: 1024 },
  })
  try {
    await app.ready()
    if (atHead) await app.inject({ method: 'POST', url: '/migrations/upgrade', payload: {} })
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })
    const firstRender = []
    const graph = []
    let nodes = 0
    for (let i = 0; i < loads; i++) {
      const page = await browser.newPage()
      await page.goto(`${baseUrl}/`)
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 })
      const [render, drawn, count] = await page.evaluate(() => [
        performance.getEntriesByName('status-page:first-render')[0]?.duration,
        performance.getEntriesByName('status-page:graph')[0]?.duration,
        document.querySelectorAll('#graph .node').length,
      ])
      if (count === 0) progress(`${label}: load ${i + 1} drew nothing: ${await page.locator('#graph-summary').textContent()}`)
      firstRender.push(render)
      graph.push(drawn)
      nodes = count
      await page.close()
    }
    progress(`${label}: ${nodes} nodes, first render ${fixed(median(firstRender), 0)} ms, graph ${fixed(median(graph), 0)} ms`)
    return { label, nodes, firstRender: median(firstRender), graph: median(graph) }
  } finally {
    await app.close()
    await database.drop()
  }
}

export async function run () {
  const profile = await mkdtemp(join(tmpdir(), 'aip-bench-chromium-'))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const rows = []
  try {
    rows.push(await measure(browser, "the seed's graph (this build, at head)", undefined, true))
    for (const n of sizes) {
      for (const [shape, make] of [['line', line], ['diamonds', diamonds]]) {
        const dir = await revisionsDir(make(n))
        try {
          rows.push(await measure(browser, `${n} revisions, ${shape}`, dir.dir, false))
        } finally {
          await dir.remove()
        }
      }
    }
  } finally {
    await browser.close()
    await rm(profile, { recursive: true, force: true })
  }
  const [baseline] = rows
  const thousand = rows.find((row) => row.label === '1000 revisions, diamonds') ?? rows.find((row) => row.nodes === 1000)
  const section = [
    '## The status page in Chromium',
    '',
    `Debian's Chromium, headless, ${loads} loads each (medians); in-process app on the local PostgreSQL. Ratios against the seed's graph measured in the same run.`,
    '',
    table(['graph', 'nodes', 'first render (ms)', '× seed', 'layout + drawing (ms)', '× seed'], rows.map((row) => [
      row.label, row.nodes, fixed(row.firstRender, 0), fixed(row.firstRender / baseline.firstRender, 1), fixed(row.graph, 0), fixed(row.graph / baseline.graph, 1),
    ])),
  ].join('\n')
  const verdicts = [
    verdict("first render with the seed's graph < 1 s", `${fixed(baseline.firstRender, 0)} ms`, baseline.firstRender < 1000),
    ...(thousand === undefined ? [] : [verdict('1,000 revisions laid out and drawn < 2 s', `${fixed(thousand.graph, 0)} ms (${thousand.label})`, thousand.graph < 2000)]),
  ]
  const verdictTable = table(['target', 'measured', 'verdict'], verdicts.map((v) => [v.target, v.measured, v.met ? 'met' : 'missed']))
  await writeFile(results, `# Status page: render and layout\n\n\`npm run bench:status-page\`, ${new Date().toISOString().slice(0, 10)}.\n\n${section}\n\n${verdictTable}\n`)
  return { section, verdicts }
}

await runIfMain(import.meta.url, run)
