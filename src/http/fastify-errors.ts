import type { FastifyError } from 'fastify'
import { problemOf, type Problem } from './problems.js'
import type { ProblemType } from './problem-types.js'

/** Fastify's and its plugins' own refusals of a request, by code, as the catalogue names them. */
const byCode: Readonly<Record<string, ProblemType>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ctp-body-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'content-length-mismatch',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-json',
}

/** Refusals without a code of their own (the JSON parser's, a static file's), by status. */
const byStatus: Readonly<Record<number, ProblemType>> = {
  403: 'forbidden',
  404: 'not-found',
  406: 'not-acceptable',
  412: 'precondition-failed',
  413: 'ctp-body-too-large',
  415: 'unsupported-media-type',
  416: 'range-not-satisfiable',
}

/**
 * A client error Fastify raised, as a problem with its message as the detail; null for anything
 * else (a 5xx is the service's fault, told as an internal error). An unparsable JSON body is a
 * `SyntaxError` marked 400.
 */
export function problemOfFastifyError (error: FastifyError): Problem | null {
  const status = error.statusCode ?? 500
  if (status < 400 || status >= 500) return null
  const type = byCode[error.code] ?? (error instanceof SyntaxError ? 'malformed-json' : byStatus[status] ?? 'bad-request')
  return problemOf(type, error.message)
}
