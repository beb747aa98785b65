import t from 'tap'
import { launchChromium } from '../helpers/browser.js'

t.test('without Chromium the browser tests fail, saying what to install, rather than skip', async (t) => {
  await t.rejects(launchChromium(t, '/nonexistent/chromium'), /need Chromium at \/nonexistent\/chromium: install Debian's package \(apt-get install chromium/)
})
