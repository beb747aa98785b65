import type { FastifyReply, FastifyRequest } from 'fastify'
import { problemOf, sendProblem } from './problems.js'

/** No route for the path: 404 naming what was asked, without its query. */
export function answerNotFound (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, problemOf('not-found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`, { requestId: request.id }))
}
