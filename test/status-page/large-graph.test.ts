import t from 'tap'
import { bearer, buildTestApp, tokens } from '../helpers/app.js'
import { launchChromium, openStatusPage, screenshotPanel } from '../helpers/browser.js'
import { createTestDatabase } from '../helpers/database.js'
import { syntheticRevisionsDir } from '../helpers/synthetic-revisions.js'

/*
 * A thousand revisions in Chromium. The issue asks for layout and drawing under 2 s on this
 * machine; the suite runs beside others on two shared cores, so it asserts a bound five times
 * that and reports the figures (bench/RESULTS-status-page.md has them measured alone).
 */
const revisionCount = 1000
const url = await createTestDatabase(t, 'status_large_graph')
const app = await buildTestApp(t, url, { migrationsDir: await syntheticRevisionsDir(t, revisionCount) })
const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 })
const browser = await launchChromium(t)

t.test('a graph of a thousand revisions is laid out and drawn, every node present, the head marked', async (t) => {
  const { page, errors, loadMs } = await openStatusPage(browser, baseUrl, tokens.read)
  const graphMs = await page.evaluate(() => performance.getEntriesByName('status-page:graph')[0]?.duration ?? null)
  t.comment(`${revisionCount} revisions: laid out and drawn in ${Math.round(graphMs ?? -1)} ms; navigation to every panel ready ${loadMs} ms`)
  t.equal(await page.locator('#graph .node').count(), revisionCount)
  const heads = (await app.inject({ url: '/migrations/heads', headers: bearer('read') })).json().heads as Array<{ revision: string }>
  t.equal(heads.length, 1)
  t.equal(await page.locator('#graph .node.head').getAttribute('data-revision'), heads[0]?.revision, 'the head is the one marked')
  t.ok(graphMs !== null && graphMs < 10_000, 'within a bound generous enough for a loaded machine')
  t.same(errors, [], 'no console error')
  await screenshotPanel(page, 'graph-panel', 'graph-panel-1000-revisions')
  await page.close()
})
