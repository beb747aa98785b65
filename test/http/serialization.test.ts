import t from 'tap'
import { sharedSerializers } from '../../src/http/serialization.js'

const shared = { Problem: { $id: 'Problem', type: 'object', properties: { title: { type: 'string' }, status: { type: 'integer' } } } }

t.test('routes with the same response schema share one serializer, built when a response first needs it', async (t) => {
  const compile = sharedSerializers(shared, {})
  const first = compile({ method: 'GET', url: '/a', httpStatus: '404', schema: { $ref: 'Problem' } })
  const second = compile({ method: 'POST', url: '/b', httpStatus: '409', schema: { $ref: 'Problem' } })
  t.equal(first, second, 'one serializer for one schema')
  t.equal(first({ title: 'Not found', status: 404, stack: 'left out' }), '{"title":"Not found","status":404}')
  const other = compile({ method: 'GET', url: '/c', httpStatus: '200', schema: { type: 'object', properties: { id: { type: 'string' } } } })
  t.not(other, first)
  t.equal(other({ id: 'x', title: 'left out' }), '{"id":"x"}')
})

t.test('nothing is built for a response never sent: a schema that cannot be built fails its first response, not the start', async (t) => {
  const compile = sharedSerializers(shared, {})
  const serializer = compile({ method: 'GET', url: '/a', httpStatus: '200', schema: { $ref: 'Missing' } })
  t.throws(() => serializer({}), /Missing/)
})
