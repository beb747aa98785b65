import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { buildDataApp, createParents, missingId, post } from '../../helpers/data.js'

const { app, url } = await buildDataApp(t, 'transformer')
const { datasetId } = await createParents(app)

const path = (id: string) => `/preprocessing-steps/${id}/fitted-transformer`
const octets = { 'content-type': 'application/octet-stream' }
const newStep = async () => (await post(app, '/preprocessing-steps', { datasetId, stepType: 'scaler', order: 1 })).id

t.test('a 5 MB random blob round-trips byte for byte, with its sha256 as ETag', async (t) => {
  const id = await newStep()
  const blob = randomBytes(5 * 1024 * 1024)
  const sha256 = createHash('sha256').update(blob).digest('hex')
  const put = await app.inject({ method: 'PUT', url: path(id), headers: { ...bearer('write'), ...octets }, payload: blob })
  t.equal(put.statusCode, 204)
  t.equal(put.headers.etag, `"${sha256}"`)

  const res = await app.inject({ url: path(id), headers: bearer('read') })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/octet-stream')
  t.equal(res.headers['content-length'], String(blob.length))
  t.equal(res.headers.etag, `"${sha256}"`)
  t.ok(res.rawPayload.equals(blob), 'the same bytes')

  const step = (await app.inject({ url: `/preprocessing-steps/${id}`, headers: bearer('read') })).json()
  t.match(step, { hasFittedTransformer: true, fittedTransformerSize: blob.length })
  const list = await app.inject({ url: `/preprocessing-steps?datasetId=${datasetId}`, headers: bearer('read') })
  t.ok(list.body.length < 2000, 'lists carry the size, never the blob')
  t.match(list.json().items.find((s: { id: string }) => s.id === id), { hasFittedTransformer: true, fittedTransformerSize: blob.length })
})

t.test('PUT replaces; DELETE removes; then 404', async (t) => {
  const id = await newStep()
  const put = (payload: Buffer) => app.inject({ method: 'PUT', url: path(id), headers: { ...bearer('write'), ...octets }, payload })
  await put(Buffer.from('first'))
  await put(Buffer.from('second'))
  t.equal((await app.inject({ url: path(id), headers: bearer('read') })).body, 'second')
  const del = () => app.inject({ method: 'DELETE', url: path(id), headers: bearer('write') })
  t.equal((await del()).statusCode, 204)
  const gone = await app.inject({ url: path(id), headers: bearer('read') })
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().type, 'fitted-transformer-not-found')
  t.equal((await del()).json().type, 'fitted-transformer-not-found', 'nothing left to delete')
  t.match((await app.inject({ url: `/preprocessing-steps/${id}`, headers: bearer('read') })).json(), { hasFittedTransformer: false, fittedTransformerSize: null })
})

t.test('unknown steps 404, malformed ids 400, wrong bodies 400/415', async (t) => {
  for (const method of ['GET', 'DELETE'] as const) {
    const res = await app.inject({ method, url: path(missingId), headers: bearer('write') })
    t.equal(res.statusCode, 404, method)
    t.equal(res.json().type, 'not-found')
  }
  const put = (id: string, payload: string | Buffer | object, headers: Record<string, string> = octets) =>
    app.inject({ method: 'PUT', url: path(id), headers: { ...bearer('write'), ...headers }, payload })
  t.equal((await put(missingId, Buffer.from('x'))).statusCode, 404)
  t.equal((await put('nope', Buffer.from('x'))).statusCode, 400)
  const id = await newStep()
  const empty = await put(id, Buffer.alloc(0))
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().field, 'body')
  t.equal((await put(id, { not: 'bytes' }, { 'content-type': 'application/json' })).statusCode, 415)
  t.equal((await put(id, 'text', { 'content-type': 'text/plain' })).statusCode, 415)
})

t.test('above the configured size: 413, whether announced or streamed', async (t) => {
  const small = await buildTestApp(t, url, { fittedTransformerMaxBytes: 1024 })
  const id = await newStep()
  const put = (payload: Buffer | Readable) => small.inject({ method: 'PUT', url: path(id), headers: { ...bearer('write'), ...octets }, payload })
  t.equal((await put(randomBytes(1024))).statusCode, 204, 'exactly the limit fits')
  const announced = await put(randomBytes(1025))
  t.equal(announced.statusCode, 413)
  t.match(announced.headers['content-type'], /^application\/problem\+json/)
  const streamed = await put(Readable.from([randomBytes(600), randomBytes(600)]))
  t.equal(streamed.statusCode, 413, 'a chunked body is cut off at the limit')
  t.equal((await small.inject({ url: path(id), headers: bearer('read') })).rawPayload.length, 1024, 'the stored blob is untouched')
})
