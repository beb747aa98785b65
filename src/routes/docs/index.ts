import type { FastifyPluginAsync } from 'fastify'
import swaggerUi from '@fastify/swagger-ui'
import { documentSecurityHeaders } from '../../http/security-headers.js'

/** The OpenAPI document as JSON, and the UI that reads it at /docs. */
const docs: FastifyPluginAsync = async (fastify) => {
  // The UI is the one HTML the service serves: helmet's page policy instead of the API's.
  const pageHeaders = documentSecurityHeaders({
    // The service speaks plain HTTP behind its ingress: upgrading the UI's assets would break them.
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  })
  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    uiHooks: {
      onRequest: (_request, reply, done) => {
        reply.removeHeader('cache-control').headers(pageHeaders)
        done()
      },
    },
  })
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}

export default docs
