import { copyFile, mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import t from 'tap'
import { AxeBuilder } from '@axe-core/playwright'
import type { Page } from 'playwright-core'
import { parseTargetsFile } from '../../src/fleet/targets/targets-file.js'
import type { RevisionDefinition } from '../../src/migrator/index.js'
import { bearer, buildTestApp, tokens } from '../helpers/app.js'
import { launchChromium, openStatusPage, pageWithErrors, screenshotDir, screenshotPanel } from '../helpers/browser.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { releaseDir } from '../helpers/releases.js'
import { waitFor } from '../helpers/wait.js'
import { belowShippedHead, shippedHead } from '../helpers/shipped.js'

/*
 * One database seen by two releases: this build (serving the page, its database one revision
 * behind, a plan to head waiting), and a newer one whose five slow revisions make an upgrade
 * long enough to watch its bar move.
 */
const slowRevisions: RevisionDefinition[] = ['f1f1f1f1f1f1', 'f2f2f2f2f2f2', 'f3f3f3f3f3f3', 'f4f4f4f4f4f4', 'f5f5f5f5f5f5'].map((revision, index, ids) => ({
  revision,
  downRevisions: [index === 0 ? shippedHead : ids[index - 1] as string],
  description: `a slow step ${index + 1} of a newer release`,
  createDate: `2030-01-0${index + 1}T00:00:00.000Z`,
  up: ['SELECT pg_sleep(0.8)'],
  down: ['SELECT 1'],
}))

const url = await createTestDatabase(t, 'status_browser')
const db = testKnex(t, url)
// A heartbeat a second, so replicas' states follow the upgrade within the test's patience.
const replicas = { replicaHeartbeatMs: 1000 }
const app = await buildTestApp(t, url, { instance: 'replica-current', database: replicas })
const arranged = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: belowShippedHead } })
if (arranged.statusCode !== 200) throw new Error(`could not arrange the database: ${arranged.body}`)
const planned = await app.inject({ method: 'POST', url: '/migrations/plan', headers: bearer('migrate'), payload: { target: 'head' } })
if (planned.statusCode !== 201) throw new Error(`could not make a plan: ${planned.body}`)
const plan = planned.json() as { id: string, summary: { errors: number } }
const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })
const browser = await launchChromium(t)
const committedScreenshot = fileURLToPath(new URL('../../docs/status-page.png', import.meta.url))

const revisionsOnPage = (page: Page) => page.locator('#graph .node').evaluateAll((nodes) => nodes.map((node) => ({
  revision: node.getAttribute('data-revision'),
  classes: [...node.classList],
})))

t.test('the page loads with no console error, draws every revision with the head marked, and axe finds nothing serious', async (t) => {
  const { page, errors, loadMs } = await openStatusPage(browser, baseUrl, tokens.admin)
  const history = (await app.inject({ url: '/migrations/history', headers: bearer('read') })).json().revisions as Array<{ revision: string }>
  const heads = (await app.inject({ url: '/migrations/heads', headers: bearer('read') })).json().heads as Array<{ revision: string }>
  const drawn = await revisionsOnPage(page)
  t.same(drawn.map((node) => node.revision).sort(), history.map((entry) => entry.revision).sort(), 'every revision, once')
  for (const { revision } of heads) {
    t.ok(drawn.find((node) => node.revision === revision)?.classes.includes('head'), `the head ${revision} is marked`)
    t.ok(drawn.find((node) => node.revision === revision)?.classes.includes('pending'), 'and pending')
  }
  t.ok(drawn.find((node) => node.revision === belowShippedHead)?.classes.includes('applied'), 'the current revision is applied')
  t.equal(await page.locator('#token-scope').textContent(), 'scope: admin')
  t.match(await page.locator('#drift').textContent(), /In sync/)

  t.ok(await page.locator('#fleet-panel').isHidden(), 'no TARGETS_FILE: the service\'s own database alone, no fleet panel')
  t.same(errors, [], 'no console error')

  const firstRender = await page.evaluate(() => performance.getEntriesByName('status-page:first-render')[0]?.duration ?? null)
  t.comment(`first render with the seed's graph: ${Math.round(firstRender ?? -1)} ms in the page, ${loadMs} ms from navigation to ready`)
  // The bound is 1 s on this machine, met when it is not shared (bench/RESULTS-status-page.md); five times it here, beside other test files.
  t.ok(firstRender !== null && firstRender < 5000, 'the first render within a bound generous enough for a loaded machine')

  const results = await new AxeBuilder({ page }).analyze()
  const serious = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
  t.same(serious.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`), [], 'no serious or critical axe violation')

  for (const panel of ['graph-panel', 'replicas-panel', 'operations-panel', 'drift-panel', 'plans-panel']) await screenshotPanel(page, panel, panel)
  await page.close()
})

t.test('a revision is reached by keyboard and Enter shows its SQL and its plan findings', async (t) => {
  const { page } = await openStatusPage(browser, baseUrl, tokens.read)
  const node = page.locator(`#graph .node[data-revision="${shippedHead}"]`)
  await node.focus()
  t.equal(await page.locator(':focus').getAttribute('data-revision'), shippedHead, 'the node takes focus')
  await page.keyboard.press('Enter')
  await page.locator('#revision-detail pre').first().waitFor()
  const detail = await page.locator('#revision-detail').textContent() ?? ''
  const revision = (await app.inject({ url: `/migrations/revisions/${shippedHead}`, headers: bearer('read') })).json() as { up: string[] }
  t.match(detail, `Revision ${shippedHead}`)
  t.ok(revision.up.every((statement) => detail.includes(statement)), 'its upgrade SQL, every statement')
  t.match(detail, /Plan findings/)
  t.ok(await node.evaluate((element) => element.classList.contains('selected')), 'the node is shown selected')
  await page.close()
})

t.test('a read token sees the approve button disabled, and why', async (t) => {
  const { page } = await openStatusPage(browser, baseUrl)
  // The token typed into the page, as a person would.
  await page.fill('#token', tokens.read)
  await page.click('#token-form button[type="submit"]')
  await page.locator('#token-scope').filter({ hasText: /^scope: read$/ }).waitFor()
  const button = page.locator(`[data-plan="${plan.id}"] button[data-approve]`)
  await button.waitFor()
  t.ok(await button.isDisabled(), 'disabled')
  const why = await page.locator(`#${await button.getAttribute('aria-describedby')}`).textContent()
  t.match(why, /needs an admin token; this token has the 'read' scope/)
  t.equal(await page.evaluate(() => sessionStorage.getItem('aip-schema-token')), tokens.read, 'kept in the tab’s session storage')
  t.same((await app.inject({ url: `/migrations/plans/${plan.id}`, headers: bearer('read') })).json().approval, null, 'still not approved')
  await page.close()
})

t.test('an admin token approves a plan from the page', async (t) => {
  const { page } = await openStatusPage(browser, baseUrl, tokens.admin)
  const card = page.locator(`[data-plan="${plan.id}"]`)
  if (plan.summary.errors > 0) await card.locator('input').fill('approved from the status page test')
  await card.locator('button[data-approve]').click()
  await card.locator('[role="status"]').filter({ hasText: 'Approved by admin' }).waitFor()
  const approval = (await app.inject({ url: `/migrations/plans/${plan.id}`, headers: bearer('read') })).json().approval
  t.match(approval, { approvedBy: 'admin' })
  await page.locator(`[data-plan="${plan.id}"]`).waitFor({ state: 'detached', timeout: 10_000 })
  t.pass('the approved plan leaves the list of plans awaiting approval')
  await page.close()
})

t.test('a plan with errors is approved from the page only with an override reason, which it keeps', async (t) => {
  // A release whose revision blocks writes on model_runs while it builds an index; with LINT_LARGE_TABLE_ROWS 0 any such table is large.
  const blocking: RevisionDefinition = { revision: 'e0e0e0e0e0e0', downRevisions: [shippedHead], description: 'an index built the blocking way', createDate: '2030-01-01T00:00:00.000Z', up: ['CREATE INDEX model_runs_blocking ON model_runs (model_type)'], down: ['DROP INDEX model_runs_blocking'] }
  const strict = await buildTestApp(t, url, { instance: 'replica-strict', migrationsDir: await releaseDir(t, { extra: [blocking] }), review: { largeTableRows: 0 } })
  await db.raw('ANALYZE model_runs')
  const made = await strict.inject({ method: 'POST', url: '/migrations/plan', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(made.statusCode, 201)
  const risky = made.json() as { id: string, summary: { errors: number } }
  t.ok(risky.summary.errors > 0, 'the plan has an error finding')

  const { page } = await openStatusPage(browser, baseUrl, tokens.admin)
  const card = page.locator(`[data-plan="${risky.id}"]`)
  t.match(await card.textContent(), /error .*model_runs/, 'the finding is shown with its table')
  await card.locator('button[data-approve]').click()
  await card.locator('[role="status"]').filter({ hasText: 'say why it may run anyway' }).waitFor()
  t.same((await app.inject({ url: `/migrations/plans/${risky.id}`, headers: bearer('read') })).json().approval, null, 'not approved without a reason')
  t.equal(await card.locator('input').evaluate((input) => input === input.ownerDocument.activeElement), true, 'the reason field takes focus')

  await card.getByLabel('Override reason').fill('an empty table on a test database')
  await card.locator('button[data-approve]').click()
  await card.locator('[role="status"]').filter({ hasText: 'Approved by admin' }).waitFor()
  t.match((await app.inject({ url: `/migrations/plans/${risky.id}`, headers: bearer('read') })).json().approval, { approvedBy: 'admin', override: 'an empty table on a test database' })
  await page.close()
})

t.test('two releases side by side show as two releases in the replicas panel, and an async upgrade moves its bar to done', async (t) => {
  const newer = await buildTestApp(t, url, { instance: 'replica-next', version: '0.2.0', migrationsDir: await releaseDir(t, { extra: slowRevisions }), groupMs: 0, database: replicas })
  const { page } = await openStatusPage(browser, baseUrl, tokens.read)
  await page.locator('#replicas .release').nth(1).waitFor({ timeout: 15_000 })
  const releases = await page.locator('#replicas .release').evaluateAll((elements) => elements.map((element) => element.getAttribute('data-release')))
  t.same([...releases].sort(), ['0.1.0', '0.2.0'].sort(), 'two releases')
  t.match(await page.locator('#replicas [data-instance="replica-next"]').textContent(), /unready/, 'the newer release is unready: its revisions are pending')

  const started = await newer.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { async: true } })
  t.equal(started.statusCode, 202)
  const operationId = started.json().id as string
  const row = page.locator(`#operations tr[data-operation="${operationId}"]`)
  await row.waitFor({ timeout: 10_000 })
  const seen = new Set<string>()
  let pictured = false
  const deadline = Date.now() + 30_000
  while (await row.getAttribute('data-status') !== 'succeeded' && Date.now() < deadline) {
    const value = await row.locator('progress').first().getAttribute('value', { timeout: 200 }).catch(() => null)
    if (value !== null) seen.add(value)
    // The whole page with an upgrade under way and two releases serving: the picture the README shows.
    if (!pictured && value !== null && value !== '0') {
      await page.screenshot({ path: join(screenshotDir, 'status-page.png'), fullPage: true })
      pictured = true
    }
    await page.waitForTimeout(100)
  }
  t.equal(await row.getAttribute('data-status'), 'succeeded', 'the row says done')
  t.ok(seen.size >= 2, `the bar moved while it ran (steps done seen: ${[...seen].join(', ')})`)
  await screenshotPanel(page, 'operations-panel', 'operations-panel-after-upgrade')

  // This build's replica now serves a database a newer release moved on; the graph shows what it lacks.
  await page.locator('#graph .node.ahead').nth(slowRevisions.length - 1).waitFor({ timeout: 10_000 })
  const ahead = (await revisionsOnPage(page)).filter((node) => node.classes.includes('ahead')).map((node) => node.revision)
  t.same(ahead.sort(), slowRevisions.map((revision) => revision.revision).sort(), 'the ahead revisions are drawn')
  await page.locator(`#graph .node[data-revision="${slowRevisions[0]?.revision}"]`).click()
  await page.locator('#revision-detail').filter({ hasText: 'This release does not have this revision' }).waitFor()
  t.pass('an ahead revision, chosen, is said to be a newer release\'s')
  await page.locator('#replicas [data-instance="replica-current"]').filter({ hasText: 'database ahead' }).waitFor({ timeout: 20_000 })
  t.pass('this build\'s replica reads ready with the database ahead')
  for (const panel of ['graph-panel', 'replicas-panel']) await screenshotPanel(page, panel, `${panel}-two-releases`)
  t.ok(pictured, 'the whole page was pictured mid-upgrade')
  if (process.env.STATUS_PAGE_SCREENSHOT === 'commit') {
    await mkdir(join(committedScreenshot, '..'), { recursive: true })
    await copyFile(join(screenshotDir, 'status-page.png'), committedScreenshot)
  }
  await page.close()
})

t.test('without the token a service asks for, each panel says it needs one and the page says so', async (t) => {
  const { page } = await openStatusPage(browser, baseUrl)
  t.equal(await page.locator('#token-scope').textContent(), 'a token is needed')
  for (const panel of ['#replicas', '#operations', '#drift', '#plans']) {
    t.match(await page.locator(panel).textContent(), /needs a token/, panel)
  }
  await page.fill('#token', 'not-a-token')
  await page.click('#token-form button[type="submit"]')
  await page.locator('#token-scope').filter({ hasText: /^token not known$/ }).waitFor()
  t.pass('an unknown token is said to be unknown')
  await page.close()
})

t.test("a backfill's rows show beside the steps, from the contract's field names", async (t) => {
  const { page } = await pageWithErrors(browser)
  await page.addInitScript((secret) => sessionStorage.setItem('aip-schema-token', secret), tokens.read)
  // The backfill branch adds these fields to a running operation's steps; until it merges, the answer is made here.
  const running = {
    id: '00000000-0000-4000-8000-000000000001',
    kind: 'upgrade',
    target: 'head',
    dryRun: false,
    status: 'running',
    from: [belowShippedHead],
    to: null,
    steps: [{ revision: shippedHead, direction: 'up', description: 'a backfill', durationMs: 0, rowsDone: 1200, rowsTotal: 5000, rowsPerSecond: 400, etaMs: 9500 }],
    stepsDone: 0,
    stepsTotal: 2,
    error: null,
    actor: 'migrate',
    instance: 'replica-current',
    startedAt: new Date().toISOString(),
    finishedAt: null,
  }
  await page.route('**/migrations/operations?*', (route) => route.fulfill({ json: { operations: [running] } }))
  await page.goto(`${baseUrl}/`)
  const row = page.locator(`#operations tr[data-operation="${running.id}"]`)
  await row.waitFor()
  const bars = await row.locator('progress').evaluateAll((elements) => elements.map((element) => [element.getAttribute('value'), element.getAttribute('max')]))
  t.same(bars, [['0', '2'], ['1200', '5000']], 'a bar for the steps, one for the rows')
  t.match(await row.textContent(), /0 of 2 steps/)
  t.match(await row.textContent(), /1,200 of ~5,000 rows/)
  await page.close()
})

t.test('the fleet grid shows each environment of a TARGETS_FILE, as GET /fleet reads the targets', async (t) => {
  const fleetUrl = await createTestDatabase(t, 'status_fleet')
  const targets = parseTargetsFile(`
environments: [development, production]
self: { name: home, environment: development }
targets:
  - { name: tenant-a, environment: production, url: "\${FLEET_URL}", schema: tenant_a }
  - { name: tenant-b, environment: production, url: "postgres://postgres@127.0.0.1:1/nowhere", schema: tenant_b }
`, { FLEET_URL: fleetUrl })
  const fleetApp = await buildTestApp(t, fleetUrl, { instance: 'replica-fleet', targets })
  t.equal((await fleetApp.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })).statusCode, 200, 'home at head')
  // The service's own row follows its new version without waiting for the next sweep.
  await waitFor(async () => (await fleetApp.inject({ url: '/fleet', headers: bearer('read') })).json().targets.find((target: { name: string }) => target.name === 'home')?.upToDate === true, 30_000)
  const fleetBase = await fleetApp.listen({ host: '127.0.0.1', port: 0 })
  const { page } = await pageWithErrors(browser)
  await page.addInitScript((secret) => sessionStorage.setItem('aip-schema-token', secret), tokens.read)
  await page.goto(`${fleetBase}/`)
  await page.locator('#fleet-panel').waitFor({ state: 'visible' })
  await page.locator('#fleet .fleet-env li').nth(2).waitFor()
  const environments = await page.locator('#fleet .fleet-env').evaluateAll((elements) => elements.map((element) => [element.querySelector('h3')?.textContent, element.querySelectorAll('li').length]))
  t.same(environments, [['development', 1], ['production', 2]])
  const pending = (await fleetApp.inject({ url: '/migrations/history', headers: bearer('read') })).json().revisions.length
  t.match(await page.locator('#fleet').textContent(), /home up to date/)
  t.match(await page.locator('#fleet').textContent(), new RegExp(`tenant-a ${pending} pending`), 'a schema target at base: every revision pending')
  t.match(await page.locator('#fleet').textContent(), /tenant-b unreachable/)
  await screenshotPanel(page, 'fleet-panel', 'fleet-panel')
  await page.close()
})
