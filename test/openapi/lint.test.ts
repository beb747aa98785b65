import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { toolEnv } from '../helpers/tool-env.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface LintReport {
  totals: { errors: number, warnings: number }
  problems: Array<{ ruleId: string, severity: string, message: string, location: Array<{ pointer: string }> }>
}

t.test('openapi/openapi.json is clean under Redocly CLI\'s recommended ruleset: no errors, no warnings', async (t) => {
  // The real CLI, as people run it on the document; it exits 1 on errors, so the report is read either way.
  const lint = await promisify(execFile)(join(root, 'node_modules', '.bin', 'redocly'), ['lint', '--extends=recommended', '--format=json', 'openapi/openapi.json'], {
    cwd: root,
    env: toolEnv({ REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }),
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
  const report = JSON.parse(lint.stdout) as LintReport
  t.same(report.problems.map(({ ruleId, message, location }) => `${ruleId} at ${location[0]?.pointer}: ${message}`), [])
  t.match(report.totals, { errors: 0, warnings: 0 })
})
