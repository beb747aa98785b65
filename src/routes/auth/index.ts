import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { problems } from '../../schemas/common.js'
import { WhoAmISchema } from '../../schemas/auth.js'
import type { Scope } from '../../auth/tokens.js'

export interface AuthRoutesOptions {
  readonly disabled: boolean
}

/** What the presented token may do: the status page shows an admin's controls only to an admin. */
const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (fastify, options) => {
  fastify.get('/auth/whoami', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getTokenScope',
      tags: ['auth'],
      summary: "The presented token's scope; never the token itself",
      security: [{ bearer: ['read'] }],
      response: { 200: Type.Ref(WhoAmISchema), ...problems(401, 403) },
    },
  // The route's auth hook granted a scope before this handler runs.
  }, async (request) => ({ scope: request.grantedScope as Scope, tokenRequired: !options.disabled }))
}

export default authRoutes
