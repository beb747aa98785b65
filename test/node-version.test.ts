import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { minimumNodeVersion, unsupportedNodeMessage } from '../src/node-version.js'

const root = fileURLToPath(new URL('../', import.meta.url))
/** The Node.js of this machine kind (20): what a new user has before `npm install` brings 24. */
const machineNode = '/usr/bin/node'

t.test('the minimum is the one package.json declares', async (t) => {
  const { engines } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }
  t.equal(engines.node, `>=${minimumNodeVersion}`)
})

t.test('versions below the minimum are refused by name, the minimum and later ones pass', async (t) => {
  for (const old of ['20.20.2', '22.11.0', '18.0.0', '0.12.18']) {
    const message = unsupportedNodeMessage(old, '/opt/node')
    t.match(message, `needs Node.js ${minimumNodeVersion} or later, found ${old} (/opt/node)`, old)
  }
  for (const recent of [`${minimumNodeVersion}.0`, '22.20.0', '23.0.0', '24.21.0', '100.0.0']) {
    t.equal(unsupportedNodeMessage(recent, '/opt/node'), null, recent)
  }
})

t.test('the built entries started on the machine\'s older Node.js: one line naming both versions, exit 1', async (t) => {
  const { stdout: version } = await promisify(execFile)(machineNode, ['-p', 'process.versions.node'])
  const found = version.trim()
  t.not(unsupportedNodeMessage(found, machineNode), null, `${machineNode} is Node.js ${found}, older than ${minimumNodeVersion}, as on this machine kind`)
  for (const entry of ['dist/server.js', 'dist/cli/main.js']) {
    const run = await promisify(execFile)(machineNode, [entry, 'current'], { cwd: root, env: { PATH: '/usr/bin:/bin' } }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number, stdout: string, stderr: string }) => error
    )
    t.equal(run.code, 1, `${entry}: exit 1`)
    t.equal(run.stdout, '', `${entry}: nothing on stdout`)
    t.equal(run.stderr, `${unsupportedNodeMessage(found, machineNode)}\n`, `${entry}: the one line, no stack trace`)
  }
})
