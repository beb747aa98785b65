import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AllowedMethods } from './allowed-methods.js'
import { problemOf, sendProblem } from './problems.js'

/**
 * No route took the request: 405 with `Allow` where the path has routes for other methods
 * (RFC 9110), else 404. Either names what was asked, without its query.
 */
export function answerNoRoute (allowed: AllowedMethods) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0] ?? ''
    const methods = allowed.at(path)
    if (methods.length === 0) return sendProblem(reply, problemOf('not-found', `no route ${request.method} ${path}`, { requestId: request.id }))
    reply.header('allow', methods.join(', '))
    return sendProblem(reply, problemOf('method-not-allowed', `${path} answers ${methods.join(', ')}, not ${request.method}`, { allowed: methods, requestId: request.id }))
  }
}
