import t from 'tap'
import { referencedBy, sharedSerializers } from '../../src/http/serialization.js'

const shared = {
  Problem: { $id: 'Problem', type: 'object', properties: { title: { type: 'string' }, status: { type: 'integer' } } },
  Step: { $id: 'Step', type: 'object', properties: { revision: { type: 'string' } } },
  Operation: { $id: 'Operation', type: 'object', properties: { id: { type: 'string' }, steps: { type: 'array', items: { $ref: 'Step' } } } },
  Page: { $id: 'Page', type: 'object', properties: { operations: { type: 'array', items: { $ref: 'Operation#' } } } },
}

t.test('routes with the same response schema share one serializer', async (t) => {
  const compile = sharedSerializers()(shared, {})
  const first = compile({ method: 'GET', url: '/a', httpStatus: '404', schema: { $ref: 'Problem' } })
  const second = compile({ method: 'POST', url: '/b', httpStatus: '409', schema: { $ref: 'Problem' } })
  t.equal(first, second, 'one serializer for one schema')
  t.equal(first({ title: 'Not found', status: 404, stack: 'left out' }), '{"title":"Not found","status":404}')
  const page = compile({ method: 'GET', url: '/c', httpStatus: '200', schema: { $ref: 'Page' } })
  t.not(page, first)
  t.equal(page({ operations: [{ id: 'o', steps: [{ revision: 'r', sql: 'left out' }] }] }), '{"operations":[{"id":"o","steps":[{"revision":"r"}]}]}')
})

t.test('a serializer is built with the shared schemas its schema reaches, through one another', async (t) => {
  t.same(Object.keys(referencedBy({ $ref: 'Page' }, shared)).sort(), ['Operation', 'Page', 'Step'])
  t.same(Object.keys(referencedBy({ type: 'object', properties: { problem: { $ref: 'Problem#/properties/title' } } }, shared)), ['Problem'])
  t.same(referencedBy({ type: 'object', properties: { $ref: { type: 'string' } } }, shared), {}, 'a property named $ref is no reference')
  t.equal(referencedBy({ $ref: 'Elsewhere' }, shared), shared, 'a reference to no shared id: all of them, as Fastify would hand')
})

t.test('a serializer is shared across the plugin contexts of one app, unless the shared schemas it reaches differ', async (t) => {
  const factory = sharedSerializers()
  const route = { method: 'GET', url: '/a', httpStatus: '200', schema: { $ref: 'Page' } }
  const serializer = factory(shared, {})(route)
  t.equal(factory({ ...shared }, {})(route), serializer, 'another context with the same shared schemas')
  t.equal(factory({ ...shared, Problem: { $id: 'Problem', type: 'object' } }, {})(route), serializer, 'one that differs only where this schema does not reach')
  const otherStep = { ...shared, Step: { $id: 'Step', type: 'object', properties: { revision: { type: 'string' }, sql: { type: 'string' } } } }
  const other = factory(otherStep, {})(route)
  t.not(other, serializer, 'one whose Step differs')
  t.equal(other({ operations: [{ id: 'o', steps: [{ revision: 'r', sql: 's' }] }] }), '{"operations":[{"id":"o","steps":[{"revision":"r","sql":"s"}]}]}')
  t.not(sharedSerializers()(shared, {})(route), serializer, 'nothing shared between apps')
})

t.test('a response schema that cannot be built stops the start, as Fastify\'s own factory does', async (t) => {
  const compile = sharedSerializers()(shared, {})
  t.throws(() => compile({ method: 'GET', url: '/a', httpStatus: '200', schema: { $ref: 'Missing' } }), /Missing/)
})
