import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problem } from '../../http/problems.js'
import { problems } from '../../schemas/common.js'
import { IdParamsSchema } from '../../schemas/data.js'
import { notFound, readSecurity, revisions, writeSecurity } from './common.js'

export interface FittedTransformerRoutesOptions {
  readonly maxBytes: number
}

const bytes = { content: { 'application/octet-stream': { schema: { description: 'the serialized transformer, as stored' } } } }

/** The transformer blob as raw bytes, never JSON: uploads stop at `maxBytes` without buffering more. */
const fittedTransformer: FastifyPluginAsyncTypebox<FittedTransformerRoutesOptions> = async (fastify, options) => {
  const steps = fastify.data.preprocessingSteps
  const tags = ['preprocessing-steps']
  const requiresRevision = revisions.preprocessingStepTransformer
  const url = '/preprocessing-steps/:id/fitted-transformer'
  const etag = (sha256: string) => `"${sha256}"`
  const none = (id: string) => problem('fitted-transformer-not-found', `preprocessing step ${id} has no fitted transformer`)

  // Encapsulated: only these routes take octet-stream. Fastify refuses a larger Content-Length
  // before reading, and stops reading a chunked body at the route's bodyLimit.
  fastify.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  fastify.put(url, {
    bodyLimit: options.maxBytes,
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'putFittedTransformer',
      tags,
      summary: `Store the step's fitted transformer (at most ${options.maxBytes} bytes), replacing any before it`,
      security: writeSecurity,
      params: IdParamsSchema,
      body: bytes,
      response: { 204: Type.Null({ description: 'stored; ETag is its sha256' }), ...problems(400, 401, 403, 404, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const { body } = request
    if (!Buffer.isBuffer(body)) throw problem('unsupported-media-type', 'send the transformer as application/octet-stream')
    if (body.length === 0) throw problem('validation-failed', 'body is empty', { field: 'body' })
    const sha256 = await steps.putFittedTransformer(request.params.id, body)
    if (sha256 === null) throw notFound('preprocessing step', request.params.id)
    return reply.code(204).header('etag', etag(sha256)).send(null)
  })

  fastify.get(url, {
    config: { scope: 'read', requiresRevision },
    schema: {
      operationId: 'getFittedTransformer',
      tags,
      summary: "The step's fitted transformer, byte for byte, with its sha256 as ETag",
      security: readSecurity,
      params: IdParamsSchema,
      response: { 200: bytes, ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const stored = await steps.getFittedTransformer(request.params.id)
    if (stored === undefined) throw notFound('preprocessing step', request.params.id)
    if (stored === null) throw none(request.params.id)
    return reply.type('application/octet-stream').header('etag', etag(stored.sha256)).send(stored.bytes)
  })

  fastify.delete(url, {
    config: { scope: 'write', requiresRevision },
    schema: {
      operationId: 'deleteFittedTransformer',
      tags,
      summary: "Remove the step's fitted transformer",
      security: writeSecurity,
      params: IdParamsSchema,
      response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 503) },
    },
  }, async (request, reply) => {
    const removed = await steps.deleteFittedTransformer(request.params.id)
    if (removed === undefined) throw notFound('preprocessing step', request.params.id)
    if (!removed) throw none(request.params.id)
    return reply.code(204).send(null)
  })
}

export default fittedTransformer
