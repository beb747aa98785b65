import fp from 'fastify-plugin'
import { problem } from '../http/problems.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Answers every new request 503 and waits for the migrations under way: the revision each
     * runs finishes, or past `graceMs` is rolled back. Then the app can close.
     */
    drain (graceMs: number): Promise<void>
  }
}

/**
 * Graceful shutdown. The service keeps listening while it drains, so a new request gets a 503
 * problem (and its connection closed) that sends clients and balancers to another replica,
 * rather than a refused connection. Registered before auth: a 503 comes before any 401.
 */
export default fp(async (fastify) => {
  let draining = false
  // Callback hooks: they run on every request, and an async one costs each a promise.
  fastify.addHook('onRequest', (_request, _reply, done) => {
    done(draining ? problem('shutting-down', 'this instance is shutting down; retry against another replica') : undefined)
  })
  // Requests under way when the drain began answer too, and a kept-alive connection would hold the close open.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close')
    done(null, payload)
  })
  fastify.decorate('drain', async (graceMs: number) => {
    draining = true
    await fastify.migrator.shutdown(graceMs)
  })
}, { name: 'shutdown', dependencies: ['migrator'] })
