import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import type { StepReport } from '../store/audit.js'
import { watchBlockers } from './blockers.js'
import { MigrationFailedError, type Blocker } from '../errors.js'
import type { RevisionGraph } from '../graph/graph.js'
import { isLockTimeout, lockRetryDelayMs, type LockRetryPolicy } from './lock-retry.js'
import { sqlStateOf } from '../../database/pg-errors.js'
import type { PlanStep } from '../graph/planning.js'
import { statementsOf, type Revision } from '../graph/revision.js'
import { tables } from '../store/bookkeeping.js'
import { recordSteps } from './records.js'

export interface StepRun {
  readonly step: PlanStep
  /** What `alembic_version` holds once the step commits. */
  readonly headsAfter: readonly string[]
  readonly lockTimeoutMs: number
  /** PostgreSQL `statement_timeout` for the revision's statements; 0 lifts the data endpoints' limit. */
  readonly statementTimeoutMs?: number
  readonly retry: LockRetryPolicy
  /** The connection to run on: the one whose session holds the migration lock. */
  readonly session: unknown
  /** That session's backend, whose blockers are named when `lock_timeout` runs out. */
  readonly sessionPid: number
  /** The operation and process running the step, recorded while a non-transactional one is under way. */
  readonly operation: string
  /** The step's place in the operation: its audit row is written with its other records. */
  readonly position: number
  /**
   * Whether the step's commit waits for its WAL to reach disk. Only the operation's last step
   * needs to: WAL is flushed in order, so that flush makes every earlier step durable too, and a
   * server crash before it loses whole steps from the end, never their consistency.
   */
  readonly durable: boolean
  readonly instance: string
  /** Set for a dry run: the step runs inside it and is rolled back with it. */
  readonly dryRun?: Knex.Transaction
  /** A try failed on `lock_timeout` and is taken again after `delayMs`. */
  readonly onRetry?: (event: RetryEvent) => void
  /** A non-transactional revision cut off earlier is run again from its start. */
  readonly onResume?: (event: ResumeEvent) => void
}

export interface RetryEvent {
  readonly try: number
  readonly delayMs: number
  readonly blockers: readonly Blocker[]
  readonly message: string
}

export interface ResumeEvent {
  /** The operation that was cut off, and when it had started the revision. */
  readonly operation: string
  readonly startedAt: string
}

interface Progress {
  /** Every statement sent, for the report: a retried statement shows once. */
  readonly sql: string[]
  tries: number
  resumed: boolean
  readonly started: number
}

/**
 * Runs one revision. A transactional revision runs inside one transaction with every record of
 * it (`alembic_version`, the checksum and place in the graph, Knex's `knex_migrations` row): the
 * schema change and its bookkeeping commit or vanish together, and a try that fails on
 * `lock_timeout` is taken again whole. A non-transactional one is marked under way first, runs
 * statement by statement and is retried from the statement that failed. Knex's own migrator is
 * not run: it asks `information_schema` for its two tables and takes its lock-table row in a
 * transaction of its own on every call, three times the round trips of the revision itself,
 * and the advisory lock already keeps replicas apart. Its table is kept as it would keep it, so
 * `knex migrate:list` reads true.
 */
export async function executeStep (knex: Knex, graph: RevisionGraph, run: StepRun): Promise<StepReport> {
  const revision = graph.get(run.step.revision)
  const progress: Progress = { sql: [], tries: 1, resumed: false, started: performance.now() }
  try {
    if (run.dryRun !== undefined) {
      return await runDry(run.dryRun, revision, run, progress)
    } else if (revision.transactional) {
      return await withLockRetries(knex, run, async (tries) => {
        progress.tries = tries
        return await runInOwnTransaction(knex, revision, run, progress)
      })
    } else {
      return await runOutsideTransaction(knex, revision, run, progress)
    }
  } catch (error) {
    if (error instanceof MigrationFailedError) throw error
    throw new MigrationFailedError(revision.revision, run.step.direction, sqlStateOf(error), (error as Error).message, error, { tries: progress.tries })
  }
}

/**
 * Tries `attempt` until it succeeds, fails on anything but `lock_timeout`, or the retries run
 * out; then the failure names the sessions that blocked the last try. `attempt` is told which try it is.
 */
async function withLockRetries<T> (knex: Knex, run: StepRun, attempt: (tries: number) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const watch = watchBlockers(knex, run.sessionPid, { firstAfterMs: run.lockTimeoutMs / 2, everyMs: Math.max(50, Math.min(run.lockTimeoutMs / 4, 1000)) })
    try {
      const value = await attempt(tries)
      watch.stop()
      return value
    } catch (error) {
      const blockers = watch.stop()
      if (!isLockTimeout(error) || tries > run.retry.retries) {
        throw new MigrationFailedError(run.step.revision, run.step.direction, sqlStateOf(error), (error as Error).message, error, { tries, blockers })
      }
      const delayMs = lockRetryDelayMs(run.retry, tries)
      run.onRetry?.({ try: tries, delayMs, blockers, message: (error as Error).message })
      await sleep(delayMs)
    }
  }
}

async function runDry (trx: Knex.Transaction, revision: Revision, run: StepRun, progress: Progress): Promise<StepReport> {
  if (!revision.transactional) {
    // PostgreSQL refuses these statements inside a transaction: show them, run nothing.
    progress.sql.push(...statementsOf(revision, run.step.direction))
    return reportOf(revision, run, progress)
  }
  await trx.raw(sessionSettings(true), sessionValues(run))
  await runStatements(trx, statementsOf(revision, run.step.direction), progress.sql)
  await recordSteps(trx, { direction: run.step.direction, revisions: [revision], headsAfter: run.headsAfter })
  return reportOf(revision, run, progress)
}

/**
 * BEGIN and the step's settings, the revision's statements, its records with its audit row,
 * COMMIT: four round trips, whatever the revision.
 */
async function runInOwnTransaction (knex: Knex, revision: Revision, run: StepRun, progress: Progress): Promise<StepReport> {
  progress.sql.length = 0
  const send = (sql: string) => knex.raw(sql).connection(run.session)
  await send(beginStep(run))
  try {
    await runStatements(knex, statementsOf(revision, run.step.direction), progress.sql, run.session)
    const report = await recordStep(knex, revision, run, progress)
    await send('COMMIT')
    return report
  } catch (error) {
    await send('ROLLBACK').catch(() => undefined)
    throw error
  }
}

/**
 * One round trip for the revision: inside a transaction no statement waits on the previous
 * one's answer, and PostgreSQL (13+) still applies the timeouts to each statement of the string.
 */
export async function runStatements (db: Knex | Knex.Transaction, statements: readonly string[], sent: string[], connection?: unknown): Promise<void> {
  sent.push(...statements)
  if (statements.length === 0) return
  const batch = db.raw(statements.join(';\n'))
  await (connection === undefined ? batch : batch.connection(connection))
}

/**
 * Marked under way, then statement by statement on one session, so `lock_timeout` applies to
 * each; then the record, one statement and so atomic on its own, which also clears the mark.
 * Cut off in between, the mark stays (the database reports the revision interrupted) and the
 * next upgrade runs it again from its start: such revisions are written to be.
 */
async function runOutsideTransaction (knex: Knex, revision: Revision, run: StepRun, progress: Progress): Promise<StepReport> {
  try {
    const previous = await markUnderWay(knex, revision, run)
    if (previous !== null) {
      progress.resumed = true
      run.onResume?.(previous)
    }
    await knex.raw(sessionSettings(false), sessionValues(run)).connection(run.session)
    progress.tries = 1
    for (const statement of statementsOf(revision, run.step.direction)) {
      progress.sql.push(statement)
      await withLockRetries(knex, run, async (tries) => {
        // Each statement has its own tries; the report keeps the most any one needed.
        progress.tries = Math.max(progress.tries, tries)
        if (tries > 1) await dropInvalidIndexLeftBy(knex, statement, run.session)
        await knex.raw(statement).connection(run.session)
      })
    }
    return await recordStep(knex, revision, run, progress)
  } finally {
    await knex.raw('RESET lock_timeout; RESET statement_timeout').connection(run.session).catch(() => undefined)
  }
}

const markQuery = `WITH previous AS (
  SELECT operation, started_at FROM ${tables.interrupted} WHERE revision = ?
), marked AS (
  INSERT INTO ${tables.interrupted} (revision, direction, operation, instance) VALUES (?, ?, ?, ?)
  ON CONFLICT (revision) DO UPDATE SET direction = EXCLUDED.direction, operation = EXCLUDED.operation,
    instance = EXCLUDED.instance, started_at = EXCLUDED.started_at
)
SELECT operation, started_at FROM previous`

/** Marks the revision under way; the mark an earlier, cut-off run left, if any. */
async function markUnderWay (knex: Knex, revision: Revision, run: StepRun): Promise<ResumeEvent | null> {
  const { rows } = await knex.raw<{ rows: Array<{ operation: string, started_at: Date }> }>(
    markQuery, [revision.revision, revision.revision, run.step.direction, run.operation, run.instance]
  ).connection(run.session)
  const row = rows[0]
  return row === undefined ? null : { operation: row.operation, startedAt: new Date(row.started_at).toISOString() }
}

const concurrentIndex = /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)/i

/**
 * A `CREATE INDEX CONCURRENTLY` that timed out after its first phase leaves an INVALID index,
 * which its `IF NOT EXISTS` would then take for done: it is dropped before the statement is tried again.
 */
async function dropInvalidIndexLeftBy (knex: Knex, statement: string, session: unknown): Promise<void> {
  const name = concurrentIndex.exec(statement)?.[1]
  if (name === undefined) return
  const { rows } = await knex.raw<{ rows: Array<{ invalid: boolean }> }>(
    'SELECT NOT indisvalid AS invalid FROM pg_index WHERE indexrelid = to_regclass(?)', [name]
  ).connection(session)
  // The name is the revision's own text, matched as an identifier above: no caller's string.
  if (rows[0]?.invalid === true) await knex.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`).connection(session)
}

function beginStep (run: StepRun): string {
  return beginTransaction({ lockTimeoutMs: run.lockTimeoutMs, statementTimeoutMs: run.statementTimeoutMs ?? 0, durable: run.durable })
}

/**
 * BEGIN and the transaction's settings. They are the service's own integers, never a caller's
 * text, so they go in one string: one round trip instead of two.
 */
export function beginTransaction (settings: { lockTimeoutMs: number, statementTimeoutMs: number, durable: boolean }): string {
  const local = [`lock_timeout = ${milliseconds(settings.lockTimeoutMs)}`, `statement_timeout = ${milliseconds(settings.statementTimeoutMs)}`]
  if (!settings.durable) local.push('synchronous_commit = off')
  return ['BEGIN', ...local.map((setting) => `SET LOCAL ${setting}`)].join('; ')
}

function milliseconds (value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`not a duration in milliseconds: ${value}`)
  return `'${value}ms'`
}

function sessionSettings (local: boolean): string {
  return `SELECT set_config('lock_timeout', ?, ${local}), set_config('statement_timeout', ?, ${local})`
}

function sessionValues (run: StepRun): string[] {
  return [`${run.lockTimeoutMs}ms`, `${run.statementTimeoutMs ?? 0}ms`]
}

/** The step's records with its audit row, in one round trip: the audit row commits with the step. */
async function recordStep (knex: Knex, revision: Revision, run: StepRun, progress: Progress): Promise<StepReport> {
  const report = reportOf(revision, run, progress)
  await recordSteps(knex, {
    direction: run.step.direction,
    revisions: [revision],
    headsAfter: run.headsAfter,
    audit: { operation: run.operation, positions: [run.position], reports: [report] },
  }).connection(run.session)
  return report
}

/** The step as reported and audited, timed up to its records. */
function reportOf (revision: Revision, run: StepRun, progress: Progress): StepReport {
  return {
    revision: revision.revision,
    direction: run.step.direction,
    description: revision.description,
    durationMs: elapsedSince(progress.started),
    tries: progress.tries,
    resumed: progress.resumed,
    sql: [...progress.sql],
  }
}

export function elapsedSince (started: number): number {
  return Math.round((performance.now() - started) * 100) / 100
}
