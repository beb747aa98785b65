import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { problemOf, sendProblem, type Problem } from './problems.js'

const refusals: Readonly<Record<string, Problem>> = {
  FST_ERR_BAD_URL: problemOf('bad-url', 'the path is not valid percent-encoded UTF-8'),
  FST_ERR_MAX_PARAM_LENGTH: problemOf('uri-too-long', 'a path parameter is longer than the router accepts'),
}

/**
 * What the router refuses before any route, hook or error handler runs; Fastify would answer it
 * in a JSON shape of its own. The path is not echoed: it may be 100 kB long.
 */
export function answerFrameworkError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const refusal = refusals[error.code] ?? problemOf('internal-error', 'the server failed to answer; the log has the details')
  request.log.info({ code: error.code, status: refusal.status }, refusal.detail)
  sendProblem(reply, { ...refusal, requestId: request.id })
}
