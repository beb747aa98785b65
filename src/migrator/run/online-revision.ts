import type { Knex } from 'knex'
import { onSession, type Query } from '../archive/archive-store.js'
import { archivingOf } from '../archive/destruction.js'
import { archiveBeforeBackfill, archiveBeforeStatement, restoreAfterStatement, stepArchivingContext } from '../archive/step-archiving.js'
import { BackfillStoppedError, ShuttingDownError } from '../errors.js'
import type { BackfillProgress } from '../observer.js'
import { backfillText, isBackfill, stepsOf, type Revision } from '../revision.js'
import type { StepReport } from '../store/audit.js'
import { tables } from '../store/bookkeeping.js'
import { runBackfill } from './backfill.js'
import { recordSteps } from './records.js'
import { stepFailure, withLockRetries, type RetriedStep } from './retries.js'
import { elapsedSince, setTimeouts, type Timeouts } from './transaction.js'

export interface ResumeEvent {
  /** The operation that was cut off, and when it had started the revision. */
  readonly operation: string
  readonly startedAt: string
}

/** A non-transactional revision's run: its step, and the session and operation it runs for. */
export interface OnlineRun extends RetriedStep {
  readonly revision: Revision
  /** The session holding the migration lock. */
  readonly session: unknown
  readonly timeouts: Timeouts
  /** The operation and process running it, recorded while it is under way. */
  readonly operation: string
  readonly instance: string
  /** How long what a statement destroys is kept. */
  readonly archiveRetentionDays: number
  /** Its place in the operation: its audit row is written with its other records. */
  readonly position: number
  /** What `alembic_version` holds once it is recorded. */
  readonly headsAfter: readonly string[]
  /** A run of it cut off earlier is run again from its start. */
  readonly onResume: (event: ResumeEvent) => void
  /** Its backfills stop between batches once this is true. */
  readonly stopping: () => boolean
  readonly onBackfillProgress: (progress: BackfillProgress) => void
}

/**
 * A revision PostgreSQL refuses inside a transaction (`CREATE INDEX CONCURRENTLY`). Marked
 * under way, then statement by statement on the migration session, so `lock_timeout` applies
 * to each and a statement that fails on it is retried alone; then the record, one statement and
 * so atomic on its own, which also clears the mark. Cut off in between, the mark stays (the
 * database reports the revision interrupted) and the next upgrade runs it again from its
 * start: such revisions are written to be, and a backfill step in it carries on from its checkpoint.
 */
export async function runOnlineRevision (knex: Knex, run: OnlineRun): Promise<StepReport> {
  const started = performance.now()
  const sql: string[] = []
  let tries = 1
  let resumed = false
  try {
    const previous = await markUnderWay(knex, run)
    if (previous !== null) {
      resumed = true
      run.onResume(previous)
    }
    await setTimeouts(knex, run.timeouts, false).connection(run.session)
    const query = onSession(knex, run.session)
    const archivingContext = stepArchivingContext(run.revision, run.step.direction, run.operation, run.archiveRetentionDays)
    let rowsDone: number | undefined
    for (const [index, statement] of stepsOf(run.revision, run.step.direction).entries()) {
      if (isBackfill(statement)) {
        sql.push(backfillText(statement.backfill))
        await inTransaction(query, async () => archiveBeforeBackfill(query, statement.backfill, archivingContext))
        const outcome = await runBackfill(knex, { ...run, backfill: statement.backfill, revision: run.revision.revision, index, statementTimeoutMs: run.timeouts.statementTimeoutMs, onProgress: run.onBackfillProgress })
        rowsDone = (rowsDone ?? 0) + outcome.rowsDone
        continue
      }
      sql.push(statement)
      const archiving = archivingOf(statement)
      // Committed before the statement runs: no transaction spans a non-transactional step.
      if (archiving.destroys.length > 0) await inTransaction(query, async () => archiveBeforeStatement(query, archiving, archivingContext))
      await withLockRetries(run, async (tried) => {
        // Each statement has its own tries; the report keeps the most any one needed.
        tries = Math.max(tries, tried)
        if (tried > 1) await dropInvalidIndexLeftBy(knex, statement, run.session)
        await knex.raw(statement).connection(run.session)
      })
      if (archiving.createsTables.length + archiving.addsColumnsTo.length > 0) await inTransaction(query, async () => restoreAfterStatement(query, archiving))
    }
    const report: StepReport = { revision: run.revision.revision, direction: run.step.direction, description: run.revision.description, durationMs: elapsedSince(started), tries, resumed, sql, ...(rowsDone === undefined ? {} : { rowsDone }) }
    await recordSteps(knex, {
      direction: run.step.direction,
      revisions: [run.revision],
      headsAfter: run.headsAfter,
      audit: { operation: run.operation, positions: [run.position], reports: [report] },
    }).connection(run.session)
    return report
  } catch (error) {
    // Stopped between batches on request or for shutdown: not the revision's failure.
    if (error instanceof BackfillStoppedError || error instanceof ShuttingDownError) throw error
    throw stepFailure(run.step, error, { tries })
  } finally {
    await knex.raw('RESET lock_timeout; RESET statement_timeout').connection(run.session).catch(() => undefined)
  }
}

/** The archive's queries commit together, or not at all. */
async function inTransaction (query: Query, work: () => Promise<unknown>): Promise<void> {
  await query('BEGIN')
  try {
    await work()
    await query('COMMIT')
  } catch (error) {
    await query('ROLLBACK').catch(() => undefined)
    throw error
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
async function markUnderWay (knex: Knex, run: OnlineRun): Promise<ResumeEvent | null> {
  const id = run.revision.revision
  const { rows } = await knex.raw<{ rows: Array<{ operation: string, started_at: Date }> }>(
    markQuery, [id, id, run.step.direction, run.operation, run.instance]
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
