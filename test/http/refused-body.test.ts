import { once } from 'node:events'
import { connect, type AddressInfo } from 'node:net'
import t from 'tap'
import { tokens } from '../helpers/app.js'
import { buildDataApp } from '../helpers/data.js'

/**
 * A body far past the limit, written in full by a client that reads the answer only after: it
 * must get the 413 problem, not EPIPE or a reset that throws the answer away. Over a real socket:
 * `inject` has no connection to close.
 */
const { app } = await buildDataApp(t, 'refused_body')
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo
const size = 5 * 1024 * 1024
const chunk = Buffer.alloc(64 * 1024, 'a')

interface Outcome { status: number | null, body: string, writeError: string | null }

async function postLarge (head: string, framing: 'length' | 'chunked'): Promise<Outcome> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let raw = ''
  let writeError: string | null = null
  socket.on('data', (data: Buffer) => { raw += data.toString('latin1') })
  socket.on('error', (error: NodeJS.ErrnoException) => { writeError ??= error.code ?? error.message })
  const closed = once(socket, 'close')
  const framingHeader = framing === 'length' ? `content-length: ${size}` : 'transfer-encoding: chunked'
  socket.write(`${head}\r\nhost: localhost\r\n${framingHeader}\r\n\r\n`)
  for (let sent = 0; sent < size && !socket.destroyed; sent += chunk.length) {
    const piece = framing === 'length' ? chunk : Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
    if (!socket.write(piece)) await Promise.race([once(socket, 'drain'), closed])
  }
  if (!socket.destroyed) socket.end(framing === 'chunked' ? '0\r\n\r\n' : '')
  await closed
  const [headers = '', body = ''] = raw.split('\r\n\r\n', 2)
  const status = /^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]
  return { status: status === undefined ? null : Number(status), body, writeError }
}

const modelRun = `POST /model-runs HTTP/1.1\r\nauthorization: Bearer ${tokens.write}\r\ncontent-type: application/json`

for (const framing of ['length', 'chunked'] as const) {
  t.test(`5 MB to POST /model-runs (limit 256 KiB), ${framing === 'length' ? 'with Content-Length' : 'chunked'}, 20 times: every client sees the 413`, async (t) => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const outcome = await postLarge(modelRun, framing)
      t.equal(outcome.writeError, null, `attempt ${attempt}: no error while writing`)
      t.equal(outcome.status, 413, `attempt ${attempt}: 413`)
      t.match(JSON.parse(outcome.body), { type: 'ctp-body-too-large', status: 413 }, `attempt ${attempt}: the problem`)
    }
  })
}

t.test('refused before the body is read (no token, wrong media type): the client sees that answer too', async (t) => {
  const noToken = await postLarge('POST /model-runs HTTP/1.1\r\ncontent-type: application/json', 'length')
  t.same([noToken.status, noToken.writeError], [401, null])
  const plain = await postLarge(`POST /model-runs HTTP/1.1\r\nauthorization: Bearer ${tokens.write}\r\ncontent-type: text/plain`, 'length')
  t.same([plain.status, plain.writeError], [415, null])
})
