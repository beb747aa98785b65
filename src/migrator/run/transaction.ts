import type { Knex } from 'knex'

/** A transaction's timeouts: the service's own integers, never a caller's text. */
export interface Timeouts {
  readonly lockTimeoutMs: number
  /** 0 is none. */
  readonly statementTimeoutMs: number
}

/**
 * BEGIN and the transaction's settings in one string, one round trip. Its commit does not wait
 * for the WAL flush: the plan's last commit asks for it (`commitSql`), which makes every
 * earlier commit durable too, so a server crash loses whole steps from the end, never half of one.
 */
export function beginSql (timeouts: Timeouts): string {
  return ['BEGIN', `lock_timeout = ${milliseconds(timeouts.lockTimeoutMs)}`, `statement_timeout = ${milliseconds(timeouts.statementTimeoutMs)}`, 'synchronous_commit = off']
    .map((part, index) => index === 0 ? part : `SET LOCAL ${part}`).join('; ')
}

export function commitSql (durable: boolean): string {
  return durable ? 'SET LOCAL synchronous_commit = on; COMMIT' : 'COMMIT'
}

/** The same timeouts for the session (`local`: for the transaction under way only), as bound values. */
export function setTimeouts (db: Knex | Knex.Transaction, timeouts: Timeouts, local: boolean): Knex.Raw {
  return db.raw(`SELECT set_config('lock_timeout', ?, ${local}), set_config('statement_timeout', ?, ${local})`,
    [`${timeouts.lockTimeoutMs}ms`, `${timeouts.statementTimeoutMs}ms`])
}

/**
 * One round trip for a revision: inside a transaction no statement waits on the previous
 * one's answer, and PostgreSQL (13+) still applies the timeouts to each statement of the string.
 */
export async function runStatements (db: Knex | Knex.Transaction, statements: readonly string[], connection?: unknown): Promise<void> {
  if (statements.length === 0) return
  const batch = db.raw(statements.join(';\n'))
  await (connection === undefined ? batch : batch.connection(connection))
}

export function elapsedSince (started: number): number {
  return Math.round((performance.now() - started) * 100) / 100
}

function milliseconds (value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`not a duration in milliseconds: ${value}`)
  return `'${value}ms'`
}
