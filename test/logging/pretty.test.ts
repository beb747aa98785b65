import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { loggerOptions } from '../../src/logging/options.js'
import { prettyMessage, prettyStream } from '../../src/logging/pretty.js'

const base = { time: 0, pid: 1, hostname: 'h', reqId: 'r-1' }

t.test('info: the message alone; a request its method and path, a response its status and time', async (t) => {
  t.equal(prettyMessage({ ...base, level: 30, msg: 'schema at head b', from: [], to: ['b'] }, 'msg'), 'schema at head b')
  t.equal(prettyMessage({ ...base, level: 30, msg: 'incoming request', req: { method: 'GET', url: '/health/ready' } }, 'msg'), 'incoming request GET /health/ready')
  t.equal(prettyMessage({ ...base, level: 30, msg: 'request completed', res: { statusCode: 200 }, responseTime: 1.234 }, 'msg'), 'request completed 200 in 1.2 ms')
})

t.test('warnings and errors add their fields and the error\'s message; an error its stack', async (t) => {
  const warning = prettyMessage({ ...base, level: 40, msg: 'cannot be reached', attempt: 2, blockers: [{ pid: 7 }], err: { message: 'ECONNREFUSED', stack: 'Error: ECONNREFUSED\n    at connect (net.js:1:1)' } }, 'msg')
  t.equal(warning, 'cannot be reached attempt=2 blockers=[{"pid":7}] (ECONNREFUSED)')
  const error = prettyMessage({ ...base, level: 50, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at run (a.js:1:1)\n    at main (b.js:2:2)' } }, 'msg')
  t.same(error.split('\n'), ['failed (boom)', '    at run (a.js:1:1)', '    at main (b.js:2:2)'])
  const long = prettyMessage({ ...base, level: 40, msg: 'long', sql: 'x'.repeat(500) }, 'msg')
  t.ok(long.length < 140, `a long value is cut: ${long.length} characters`)
})

t.test('the banner record: its message, then one indented line per item', async (t) => {
  const banner = { url: 'http://h:1', docs: 'http://h:1/docs', statusPage: null, database: { embedded: true, dataDir: '/d' }, migrationDatabase: null, schema: { state: 'at-head', heads: ['b'] }, auth: { tokenRequired: false, scopes: [] }, stop: 'Ctrl+C' }
  const lines = prettyMessage({ ...base, level: 30, msg: 'aip-schema is serving on http://h:1', banner }, 'msg').split('\n')
  t.equal(lines[0], 'aip-schema is serving on http://h:1')
  t.equal(lines.length, 7)
  t.ok(lines.slice(1).every((line) => line.startsWith('    ')), 'indented')
})

t.test('the pretty stream writes time, level and message on one line, synchronously', async (t) => {
  let written = ''
  const destination = new Writable({ write (chunk: Buffer, _encoding, done) { written += chunk.toString(); done() } })
  const logger = pino({ level: 'info' }, prettyStream(destination))
  logger.info({ secretless: true }, 'hello')
  logger.flush()
  await new Promise((resolve) => setImmediate(resolve))
  t.match(written.replace(/\x1b\[[0-9;]*m/g, ''), /^\[\d\d:\d\d:\d\d\] INFO: hello\n$/) // eslint-disable-line no-control-regex
})

t.test('LOG_FORMAT: pretty on a terminal, JSON otherwise, the setting first; options carry the stream only when pretty', async (t) => {
  const env = { AUTH_DISABLED: 'true' }
  t.equal(loadConfig(env, true).logFormat, 'pretty')
  t.equal(loadConfig(env, false).logFormat, 'json')
  t.equal(loadConfig({ ...env, LOG_FORMAT: 'json' }, true).logFormat, 'json')
  t.equal(loadConfig({ ...env, LOG_FORMAT: 'pretty' }, false).logFormat, 'pretty')
  t.throws(() => loadConfig({ ...env, LOG_FORMAT: 'yaml' }, true), /invalid configuration: .*LOG_FORMAT/)
  t.equal(loggerOptions('info', 'json').stream, undefined)
  t.ok(loggerOptions('info', 'pretty').stream !== undefined)
})
