import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { sendProblem } from '../plugins/problem-details.js'

const refusals: Record<string, { type: string, title: string, detail: string }> = {
  FST_ERR_BAD_URL: { type: 'bad-url', title: 'Bad request', detail: 'the path is not valid percent-encoded UTF-8' },
  FST_ERR_MAX_PARAM_LENGTH: { type: 'uri-too-long', title: 'URI too long', detail: 'a path parameter is longer than the router accepts' },
}

/**
 * What the router refuses before any route, hook or error handler runs; Fastify would answer it
 * in a JSON shape of its own. The path is not echoed: it may be 100 kB long.
 */
export function answerFrameworkError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500
  const refusal = refusals[error.code] ?? { type: 'internal-error', title: 'Internal server error', detail: 'the server failed to answer; the log has the details' }
  request.log.info({ code: error.code, status }, refusal.detail)
  sendProblem(reply, { ...refusal, status, requestId: request.id })
}
