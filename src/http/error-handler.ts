import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { CatalogError } from '../catalog/errors.js'
import { DataError } from '../data/errors.js'
import { MigratorError } from '../migrator/index.js'
import { ReviewError } from '../review/errors.js'
import { RolloutError } from '../fleet/rollouts/errors.js'
import { problemFromCatalogError, problemFromDataError, problemFromDatabaseError, problemFromMigratorError, problemFromReviewError, problemFromRolloutError } from './error-problems.js'
import { problemOfFastifyError } from './fastify-errors.js'
import { afterRefusedBody } from './refused-body.js'
import { ProblemError, problemOf, sendProblem, type Problem } from './problems.js'

/**
 * Every error leaves as `application/problem+json`; a user's mistake is never a 500. An error met
 * before the body was read (too large, a media type not taken, no token) is answered once the
 * body has arrived, so the client sees it (src/http/refused-body.ts).
 */
export function answerError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const problem = toProblem(error)
  // A ProblemError is answered on purpose (schema not ready, shutting down): whoever throws it
  // says so once, not an error line per request.
  if (problem.status >= 500 && !(error instanceof ProblemError)) {
    request.log.error({ err: error }, problem.title)
  } else {
    request.log.info({ problem: problem.type, status: problem.status }, problem.detail)
  }
  afterRefusedBody(request.raw, (complete) => {
    if (!complete) reply.header('connection', 'close')
    sendProblem(reply, { ...problem, instance: request.url, requestId: request.id })
  })
}

/** Any error as its problem: the HTTP answer, and what a rollout records of a target's failure. */
export function toProblem (error: FastifyError): Problem {
  if (error instanceof ProblemError) return error.problem
  if (error instanceof MigratorError) return problemFromMigratorError(error)
  if (error instanceof CatalogError) return problemFromCatalogError(error)
  if (error instanceof DataError) return problemFromDataError(error)
  if (error instanceof ReviewError) return problemFromReviewError(error)
  if (error instanceof RolloutError) return problemFromRolloutError(error)
  if (error.validation !== undefined) return validationProblem(error)
  return problemFromDatabaseError(error) ??
    problemOfFastifyError(error) ??
    problemOf('internal-error', 'the server failed to answer; the log has the details')
}

function validationProblem (error: FastifyError): Problem {
  const entries = error.validation ?? []
  const first = entries[0]
  const field = validationField(error.validationContext, first?.instancePath, first?.params)
  return problemOf('validation-failed', field === null ? error.message : `${field} ${first?.message ?? 'is invalid'}`, {
    field,
    errors: entries.map((entry) => ({
      field: validationField(error.validationContext, entry.instancePath, entry.params),
      message: entry.message ?? 'is invalid',
    })),
  })
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
