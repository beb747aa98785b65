import neostandard from 'neostandard'
import globals from 'globals'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', '.tap/**', 'coverage/**', 'openapi/**', 'test/client/schema.d.ts', 'test-output/**'] }),
  // The status page's modules run in the browser.
  { files: ['status-page/**/*.js'], languageOptions: { globals: globals.browser } },
]
