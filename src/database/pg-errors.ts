/** PostgreSQL's SQLSTATE codes the engine reacts to. */
const undefinedTable = '42P01'
const queryCanceled = '57014'

/**
 * The database is not there to answer: the server is down, shutting down or starting up, the
 * connection broke, or no pooled connection came free in time. Retrying later may succeed.
 */
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300'])
const unavailableSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED'])
/** node-postgres reports a connection that dies under a query with these messages and no code. */
const brokenConnection = /Connection terminated|Connection ended unexpectedly|is not queryable|timeout expired/

export function sqlStateOf (error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null
}

export function isUndefinedTable (error: unknown): boolean {
  return sqlStateOf(error) === undefinedTable
}

export function isDatabaseUnavailable (error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false
  const { code, name, message } = error as { code?: unknown, name?: unknown, message?: unknown }
  if (name === 'KnexTimeoutError') return true
  if (typeof code === 'string' && unavailableSocketCodes.has(code)) return true
  const state = sqlStateOf(error)
  if (state !== null) return state.startsWith('08') || unavailableStates.has(state)
  return typeof message === 'string' && brokenConnection.test(message)
}

/** `statement_timeout` ran out (or the query was cancelled): the query gave up, the database is fine. */
export function isStatementTimeout (error: unknown): boolean {
  return sqlStateOf(error) === queryCanceled
}
