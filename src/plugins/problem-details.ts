import fp from 'fastify-plugin'
import { allowedMethods } from '../http/allowed-methods.js'
import { answerError } from '../http/error-handler.js'
import { answerNoRoute } from '../http/not-found.js'

/**
 * Every error leaves as `application/problem+json` (src/http says how). Registered before any
 * route, so its `onRoute` hook learns every path's methods for the 405s.
 */
export default fp(async (fastify) => {
  const allowed = allowedMethods()
  fastify.addHook('onRoute', allowed.add)
  fastify.setErrorHandler(answerError)
  fastify.setNotFoundHandler(answerNoRoute(allowed))
}, { name: 'problem-details' })
