import { once } from 'node:events'
import { connect, type AddressInfo, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/database.js'

/**
 * What Node's HTTP parser refuses never reaches Fastify's routes, and `inject` bypasses that
 * parser: these requests go over a real socket to a listening app.
 */
const app = await buildTestApp(t, await createTestDatabase(t, 'client_errors'))
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo

interface RawAnswer { status: number, headers: Record<string, string>, body: string }

function parse (raw: string): RawAnswer {
  const [head = '', body = ''] = raw.split('\r\n\r\n', 2)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}

async function collect (socket: Socket): Promise<RawAnswer> {
  let raw = ''
  socket.on('data', (chunk: Buffer) => { raw += chunk.toString('latin1') })
  // The server closes the connection after such an answer; a reset after it is fine.
  socket.on('error', () => undefined)
  await once(socket, 'close')
  return parse(raw)
}

async function send (request: string): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(request)
  return collect(socket)
}

function assertProblem (t: Test, answer: RawAnswer, status: number, type: string): void {
  t.equal(answer.status, status)
  t.match(answer.headers['content-type'], /^application\/problem\+json/)
  t.equal(answer.headers['x-content-type-options'], 'nosniff', 'with the security headers of every answer')
  t.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body))
  const problem = JSON.parse(answer.body) as Record<string, unknown>
  t.match(problem, { type, status, title: String, detail: String })
  t.ok(answer.body.length < 512, 'nothing of the request echoed')
}

const past = 'a'.repeat(20 * 1024)

t.test('a URL past the 16 KiB header limit: 431 as a problem', async (t) => {
  assertProblem(t, await send(`GET /users?filter=${past} HTTP/1.1\r\nHost: localhost\r\n\r\n`), 431, 'header-fields-too-large')
})

t.test('one header past the limit: 431 as a problem', async (t) => {
  assertProblem(t, await send(`GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${past}\r\n\r\n`), 431, 'header-fields-too-large')
})

t.test('many small headers past the limit together: 431 as a problem', async (t) => {
  const headers = Array.from({ length: 400 }, (_, i) => `X-Header-${i}: ${'b'.repeat(48)}\r\n`).join('')
  assertProblem(t, await send(`GET /health/live HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`), 431, 'header-fields-too-large')
})

t.test('a malformed request line: 400 as a problem', async (t) => {
  assertProblem(t, await send('GET /health/live HTTP/1.1 and more\r\nHost: localhost\r\n\r\n'), 400, 'malformed-request')
  assertProblem(t, await send('\u0001\u0002 not http\r\n\r\n'), 400, 'malformed-request')
})

t.test('a request that did not arrive in time: 408 as a problem', async (t) => {
  // Node raises this one on its own clock (requestTimeout, checked every 30 s); the event it
  // emits is the same, raised here on the server side of a real connection.
  const accepted = once(app.server, 'connection') as Promise<[Socket]>
  const client = connect(port, '127.0.0.1')
  const [serverSide] = await accepted
  client.write('GET /health/live HTTP/1.1\r\nHost: loc')
  const answer = collect(client)
  app.server.emit('clientError', Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), serverSide)
  assertProblem(t, await answer, 408, 'request-timeout')
})

t.test('the server still answers afterwards', async (t) => {
  const answer = await send('GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
  t.equal(answer.status, 200)
  t.same(JSON.parse(answer.body), { status: 'ok' })
})
