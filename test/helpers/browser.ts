import { access, constants, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

interface Teardown { teardown (fn: () => unknown): void }

/** Debian's Chromium (package `chromium`, which .ci/run installs): no browser is downloaded. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Where each run writes its screenshots, git-ignored. */
export const screenshotDir = fileURLToPath(new URL('../../test-output/status-page/', import.meta.url))

/**
 * Chromium headless with a fresh profile (Playwright's persistent context is how it takes a
 * `--user-data-dir`), closed at teardown. A machine without Chromium fails here, saying what to
 * install: a browser test that skips would pass with nothing tested. Each tab keeps its own
 * session storage, so one context serves pages holding different tokens.
 */
export async function launchChromium (t: Teardown, executablePath = chromiumPath): Promise<BrowserContext> {
  try {
    await access(executablePath, constants.X_OK)
  } catch {
    throw new Error(`the status page's browser tests need Chromium at ${executablePath}: install Debian's package (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`)
  }
  const profile = await mkdtemp(join(tmpdir(), 'aip-schema-chromium-'))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  })
  t.teardown(async () => {
    await browser.close()
    await rm(profile, { recursive: true, force: true })
  })
  return browser
}

/** A page that collects every console error and uncaught exception, to assert there were none. */
export async function pageWithErrors (browser: BrowserContext): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()) })
  page.on('pageerror', (error) => errors.push(error.message))
  return { page, errors }
}

/** A screenshot of one panel into the run's (git-ignored) directory; answers its path. */
export async function screenshotPanel (page: Page, panelId: string, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true })
  const path = join(screenshotDir, `${name}.png`)
  await page.locator(`#${panelId}`).screenshot({ path })
  return path
}

/** Opens the status page of `baseUrl` in a new tab holding `token` (none: the developer setup), once its first render is done. */
export async function openStatusPage (browser: BrowserContext, baseUrl: string, token?: string): Promise<{ page: Page, errors: string[], loadMs: number }> {
  const { page, errors } = await pageWithErrors(browser)
  if (token !== undefined) await page.addInitScript((secret) => sessionStorage.setItem('aip-schema-token', secret), token)
  const started = Date.now()
  await page.goto(`${baseUrl}/`)
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
  return { page, errors, loadMs: Date.now() - started }
}
