import fp from 'fastify-plugin'
import { grants, scopeOf, type ApiToken, type Scope } from '../auth/tokens.js'
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

const bearer = /^Bearer +(\S+)$/i

export default fp<AuthPluginOptions>(async (fastify, options) => {
  fastify.decorateRequest('actor', 'anonymous')
  fastify.decorateRequest('grantedScope', null)

  fastify.addHook('onRequest', async (request, reply) => {
    const required = request.routeOptions.config.scope
    if (required === undefined) return
    if (options.disabled) {
      request.grantedScope = 'admin'
      return
    }
    const match = bearer.exec(request.headers.authorization ?? '')
    const held = match?.[1] === undefined ? null : scopeOf(options.tokens, match[1])
    if (held === null) {
      reply.header('www-authenticate', 'Bearer realm="aip-schema"')
      throw problem(401, 'unauthorized', 'Unauthorized', match === null ? 'an Authorization: Bearer <token> header is required' : 'the token is not known')
    }
    request.actor = held
    request.grantedScope = held
    if (!grants(held, required)) {
      throw problem(403, 'forbidden', 'Forbidden', `this route needs the '${required}' scope; the token has '${held}'`, { requiredScope: required })
    }
  })
}, { name: 'auth' })
