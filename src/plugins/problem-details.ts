import fp from 'fastify-plugin'
import { answerError } from '../http/error-handler.js'
import { answerNotFound } from '../http/not-found.js'

/** Every error leaves as `application/problem+json` (src/http says how); registered before any route. */
export default fp(async (fastify) => {
  fastify.setErrorHandler(answerError)
  fastify.setNotFoundHandler(answerNotFound)
}, { name: 'problem-details' })
