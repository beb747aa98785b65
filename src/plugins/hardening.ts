import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { HttpLimits } from '../config.js'
import { problem } from '../http/problems.js'
import { fillAbsentOptionalBody } from '../http/optional-body.js'
import { apiSecurityHeaders } from '../http/security-headers.js'

const mutating = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** A migration body is a target and two flags. */
const migrationBodyLimit = 16 * 1024

/**
 * Security headers on every answer, the request id echoed back, and per route: a body limit on
 * every route that takes one (unless the route set its own, like the transformer upload), a
 * missing optional body taken as `{}`, and a rate limit on every mutating route, the migration
 * verbs (scope migrate or admin) tighter than data writes. Registered before any route, so its
 * `onRoute` hooks see them all.
 */
export default fp<HttpLimits>(async (fastify, limits) => {
  // A callback hook: an async one costs every request a promise, probes included.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(apiSecurityHeaders).header('x-request-id', request.id)
    done()
  })

  // JSON routes take JSON: a text/plain body is the wrong media type (415), not a string the schema then refuses.
  fastify.removeContentTypeParser('text/plain')
  fastify.addHook('onRoute', fillAbsentOptionalBody)
  fastify.addHook('onRoute', (route) => {
    const methods = [route.method].flat()
    if (!methods.some((method) => mutating.has(method))) return
    const scope = route.config?.scope
    const migration = scope === 'migrate' || scope === 'admin'
    route.bodyLimit ??= migration ? migrationBodyLimit : limits.jsonBodyLimitBytes
    route.config = {
      ...route.config,
      rateLimit: { max: migration ? limits.migrationsPerMinute : limits.writesPerMinute, timeWindow: 60_000 },
    }
  })
  // After the hook above: the plugin reads each route's `config.rateLimit` in its own `onRoute`.
  await fastify.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => problem('rate-limited', `at most ${context.max} such requests a minute from one client; retry in ${context.after}`, { retryAfterSeconds: Math.ceil(context.ttl / 1000) }),
  })
}, { name: 'hardening' })
