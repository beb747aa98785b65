import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply } from 'fastify'
import { CatalogError } from '../catalog/errors.js'
import { DataError } from '../data/errors.js'
import { MigratorError } from '../migrator/errors.js'
import { ProblemError, problemFromCatalogError, problemFromDataError, problemFromDatabaseError, problemFromMigratorError, problemFromReviewError, type Problem } from '../http/problems.js'
import { ReviewError } from '../review/errors.js'

const contentType = 'application/problem+json; charset=utf-8'

/** Every error leaves as `application/problem+json`; a user's mistake is never a 500. */
export default fp(async (fastify) => {
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error)
    // A ProblemError is answered on purpose (schema not ready, shutting down): whoever throws it
    // says so once, not an error line per request.
    if (problem.status >= 500 && !(error instanceof ProblemError)) {
      request.log.error({ err: error }, problem.title)
    } else {
      request.log.info({ problem: problem.type, status: problem.status }, problem.detail)
    }
    return sendProblem(reply, { ...problem, instance: request.url, requestId: request.id })
  })

  fastify.setNotFoundHandler((request, reply) => sendProblem(reply, {
    type: 'not-found',
    title: 'Not found',
    status: 404,
    detail: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
    requestId: request.id,
  }))
}, { name: 'problem-details' })

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(contentType).serializer(JSON.stringify).send(problem)
}

function toProblem (error: FastifyError): Problem {
  if (error instanceof ProblemError) return error.problem
  if (error instanceof MigratorError) return problemFromMigratorError(error)
  if (error instanceof CatalogError) return problemFromCatalogError(error)
  if (error instanceof DataError) return problemFromDataError(error)
  if (error instanceof ReviewError) return problemFromReviewError(error)
  if (error.validation !== undefined) {
    const first = error.validation[0]
    const field = validationField(error.validationContext, first?.instancePath, first?.params)
    return {
      type: 'validation-failed',
      title: 'Invalid request',
      status: 400,
      detail: field === null ? error.message : `${field} ${first?.message ?? 'is invalid'}`,
      field,
      errors: error.validation.map((entry) => ({
        field: validationField(error.validationContext, entry.instancePath, entry.params),
        message: entry.message ?? 'is invalid',
      })),
    }
  }
  const database = problemFromDatabaseError(error)
  if (database !== null) return database
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return { type: slug(error.code ?? 'bad-request'), title: titleFor(status), status, detail: error.message }
  }
  return { type: 'internal-error', title: 'Internal server error', status: 500, detail: 'the server failed to answer; the log has the details' }
}

/** `body.email`, `query.limit`: the place a client must fix. */
function validationField (context: string | undefined, path: string | undefined, params: Record<string, unknown> | undefined): string | null {
  const missing = typeof params?.missingProperty === 'string' ? `/${params.missingProperty}` : ''
  const extra = typeof params?.additionalProperty === 'string' ? `/${params.additionalProperty}` : ''
  const pointer = `${path ?? ''}${missing}${extra}`
  const dotted = pointer.split('/').filter((part) => part !== '').join('.')
  if (context === undefined) return dotted === '' ? null : dotted
  return dotted === '' ? context : `${context}.${dotted}`
}

function slug (code: string): string {
  return code.replace(/^FST_ERR_/, '').toLowerCase().replace(/_/g, '-')
}

function titleFor (status: number): string {
  const titles: Record<number, string> = { 400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 405: 'Method not allowed', 406: 'Not acceptable', 409: 'Conflict', 413: 'Payload too large', 415: 'Unsupported media type', 429: 'Too many requests' }
  return titles[status] ?? 'Client error'
}
