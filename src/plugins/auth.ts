import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { bearerSecret } from '../auth/bearer.js'
import { createTokenVerifier, grants, type ApiToken, type Scope } from '../auth/tokens.js'
import { problem } from '../http/problems.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one (health, docs) are public. */
    scope?: Scope
  }
  interface FastifyRequest {
    /** Who asked: the scope of the token presented, for the audit log. */
    actor: string
    /** The scope the request was granted; `admin` when auth is disabled. */
    grantedScope: Scope | null
  }
}

export interface AuthPluginOptions {
  readonly tokens: readonly ApiToken[]
  readonly disabled: boolean
}

export default fp<AuthPluginOptions>(async (fastify, options) => {
  fastify.decorateRequest('actor', 'anonymous')
  fastify.decorateRequest('grantedScope', null)

  /*
   * Only routes that name a scope get the check, as a hook of their own: public routes (probes,
   * docs) pay nothing for auth. Registered before the routes, so this sees each of them.
   */
  const verify = createTokenVerifier(options.tokens)
  const authenticate = (request: FastifyRequest, reply: FastifyReply, required: Scope): void => {
    if (options.disabled) {
      request.grantedScope = 'admin'
      return
    }
    const secret = bearerSecret(request.headers.authorization)
    const held = secret === null ? null : verify(secret)
    if (held === null) {
      reply.header('www-authenticate', 'Bearer realm="aip-schema"')
      throw problem('unauthorized', secret === null ? 'an Authorization: Bearer <token> header is required' : 'the token is not known')
    }
    request.actor = held
    request.grantedScope = held
    if (!grants(held, required)) {
      throw problem('forbidden', `this route needs the '${required}' scope; the token has '${held}'`, { requiredScope: required })
    }
  }
  fastify.addHook('onRoute', (route) => {
    const required = route.config?.scope
    if (required === undefined) return
    const hook: onRequestHookHandler = (request, reply, done) => {
      try {
        authenticate(request, reply, required)
      } catch (error) {
        done(error as Error)
        return
      }
      done()
    }
    route.onRequest = [hook, ...[route.onRequest ?? []].flat()]
  })
}, { name: 'auth' })
