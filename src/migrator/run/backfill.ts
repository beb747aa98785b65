import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { sqlStateOf } from '../../database/pg-errors.js'
import { BackfillStoppedError, ShuttingDownError } from '../errors.js'
import type { BackfillProgress } from '../observer.js'
import type { BackfillStep } from '../revision.js'
import { tables } from '../store/bookkeeping.js'
import { withLockRetries, type RetriedStep } from './retries.js'

export const backfillDefaults = { batchSize: 1000, targetBatchMs: 100, pauseMs: 0, minBatchSize: 1, maxBatchSize: 50_000 } as const

/** A backfill step of a revision under way: where it is in the revision, and who runs it. */
export interface BackfillRun extends RetriedStep {
  readonly backfill: BackfillStep
  readonly revision: string
  /** The step's index in the revision's list that direction: its checkpoint's key with the revision and direction. */
  readonly index: number
  readonly session: unknown
  readonly operation: string
  /** The session's `statement_timeout` outside backfills (0: none), which bounds a batch's too. */
  readonly statementTimeoutMs: number
  readonly stopping: () => boolean
  readonly onProgress: (progress: BackfillProgress) => void
}

export interface BackfillOutcome {
  readonly rowsDone: number
  /** Resumed from a checkpoint an earlier run left. */
  readonly resumed: boolean
}

interface Checkpoint { readonly lastKey: string | null, readonly rowsDone: number }

interface BatchRow { last: string | null, scanned: string, updated: string, rows_done: string | null, request: 'pause' | 'cancel' | null }

const queryCanceled = '57014'

/**
 * Runs `UPDATE table SET <set> WHERE <where>` in keyset batches on the key, each batch one
 * statement and so its own transaction, which also moves the checkpoint (last key, rows done):
 * a batch and its checkpoint commit or vanish together, so a run cut off anywhere resumes after
 * the last committed batch with an exact row count. Batch size follows `targetBatchMs`; a batch
 * that meets `lock_timeout` (a row another transaction holds) or `statement_timeout` is halved
 * and tried again (lock timeouts under the statement retry policy). Between batches it reads
 * whether its operation was asked to pause or cancel, from the database, so any replica may ask.
 *
 * Rows below the checkpoint that come to match `where` later (written by code that does not
 * keep them right) are not revisited: a revision keeps new writes right with a trigger first.
 */
export async function runBackfill (knex: Knex, run: BackfillRun): Promise<BackfillOutcome> {
  const { backfill } = run
  const table = quoteIdentifier(backfill.table)
  const key = quoteIdentifier(backfill.key ?? await primaryKeyOf(knex, backfill.table, run.session))
  const targetBatchMs = backfill.targetBatchMs ?? backfillDefaults.targetBatchMs
  const checkpoint = await readCheckpoint(knex, run)
  let lastKey = checkpoint?.lastKey ?? null
  let rowsDone = checkpoint?.rowsDone ?? 0
  // An estimate, said so: the rows the predicate still selects past the checkpoint, counted once at the start.
  const rowsTotal = rowsDone + await countRemaining(knex, run, table, key, lastKey)
  let size = backfill.batchSize ?? backfillDefaults.batchSize
  const started = performance.now()
  let rowsThisRun = 0
  await setBatchTimeouts(knex, run, targetBatchMs)
  try {
    for (;;) {
      if (run.stopping()) throw new ShuttingDownError(run.revision)
      const batchStarted = performance.now()
      const row = await oneBatch(knex, run, { table, key, lastKey, rowsTotal, rowsDone, started, rowsThisRun }, () => size, (smaller) => { size = smaller })
      const tookMs = performance.now() - batchStarted
      if (row.last === null) break
      const updated = Number(row.updated)
      lastKey = row.last
      rowsDone = Number(row.rows_done ?? rowsDone + updated)
      rowsThisRun += updated
      const rate = ratePerSecond(rowsThisRun, started)
      run.onProgress({ revision: run.revision, direction: run.step.direction, table: backfill.table, batchRows: updated, batchSize: size, rowsDone, rowsTotal: Math.max(rowsTotal, rowsDone), rowsPerSecond: rate, etaMs: etaMs(rowsTotal - rowsDone, rate) })
      if (row.request !== null) {
        await knex(tables.operationRequests).where({ operation: run.operation }).delete().connection(run.session)
        throw new BackfillStoppedError(run.revision, row.request, rowsDone)
      }
      if (Number(row.scanned) < size) break
      size = adaptedSize(size, tookMs, targetBatchMs)
      const pauseMs = backfill.pauseMs ?? backfillDefaults.pauseMs
      if (pauseMs > 0) await sleep(pauseMs)
    }
  } finally {
    await knex.raw("SELECT set_config('statement_timeout', ?, false)", [`${run.statementTimeoutMs}ms`]).connection(run.session).catch(() => undefined)
    await knex.raw("SELECT set_config('lock_timeout', ?, false)", [`${run.lockTimeoutMs}ms`]).connection(run.session).catch(() => undefined)
  }
  return { rowsDone, resumed: checkpoint !== null }
}

/** The next batch size: scaled toward the target duration, at most doubling or halving at once. */
export function adaptedSize (size: number, tookMs: number, targetBatchMs: number): number {
  const factor = Math.min(2, Math.max(0.5, targetBatchMs / Math.max(tookMs, 1)))
  return Math.min(backfillDefaults.maxBatchSize, Math.max(backfillDefaults.minBatchSize, Math.round(size * factor)))
}

export function ratePerSecond (rows: number, started: number): number {
  const seconds = (performance.now() - started) / 1000
  return seconds > 0 ? Math.round(rows / seconds * 10) / 10 : 0
}

/** Milliseconds left at `rate`; null while there is no rate to go by. */
export function etaMs (remaining: number, rate: number): number | null {
  if (rate <= 0) return null
  return Math.max(0, Math.round(remaining / rate * 1000))
}

/**
 * One batch, tried again smaller while it times out: `lock_timeout` under the step's retry
 * policy (then the step fails naming the blockers), `statement_timeout` until a batch of one.
 */
async function oneBatch (knex: Knex, run: BackfillRun, at: BatchAt, size: () => number, shrink: (smaller: number) => void): Promise<BatchRow> {
  for (;;) {
    try {
      return await withLockRetries({
        ...run,
        onRetry: (event) => {
          shrink(Math.max(backfillDefaults.minBatchSize, Math.floor(size() / 2)))
          run.onRetry(event)
        },
      }, async () => batchStatement(knex, run, at, size()))
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error
      if (sqlStateOf(cause) !== queryCanceled || size() <= backfillDefaults.minBatchSize || run.stopping()) throw error
      shrink(Math.max(backfillDefaults.minBatchSize, Math.floor(size() / 2)))
    }
  }
}

interface BatchAt {
  readonly table: string
  readonly key: string
  readonly lastKey: string | null
  readonly rowsTotal: number
  readonly rowsDone: number
  readonly started: number
  readonly rowsThisRun: number
}

/**
 * The batch, its checkpoint and the read of a pause or cancel request: one statement. `set`,
 * `where`, table and key are the revision's frozen text (the identifiers quoted); the key and
 * sizes are bound.
 */
async function batchStatement (knex: Knex, run: BackfillRun, at: BatchAt, size: number): Promise<BatchRow> {
  const { set, where } = run.backfill
  const after = at.lastKey === null ? '' : `WHERE ${at.key} > ?`
  const rate = ratePerSecond(at.rowsThisRun, at.started)
  const sql = `WITH batch AS (SELECT ${at.key} AS key FROM ${at.table} ${after} ORDER BY ${at.key} LIMIT ?),
  updated AS (UPDATE ${at.table} SET ${set} WHERE ${at.key} IN (SELECT key FROM batch) AND (${where}) RETURNING 1),
  progress AS (SELECT (SELECT key FROM batch ORDER BY key DESC LIMIT 1)::text AS last, (SELECT count(*) FROM batch) AS scanned, (SELECT count(*) FROM updated) AS updated),
  saved AS (
    INSERT INTO ${tables.backfills} AS b (revision, direction, step, operation, last_key, rows_done, rows_total, rows_per_second, eta_ms, batch_size)
    SELECT ?, ?, ?, ?, last, updated, ?, ?, ?, ? FROM progress WHERE last IS NOT NULL
    ON CONFLICT (revision, direction, step) DO UPDATE SET operation = EXCLUDED.operation, last_key = EXCLUDED.last_key,
      rows_done = b.rows_done + EXCLUDED.rows_done, rows_total = greatest(EXCLUDED.rows_total, b.rows_done + EXCLUDED.rows_done),
      rows_per_second = EXCLUDED.rows_per_second, eta_ms = EXCLUDED.eta_ms, batch_size = EXCLUDED.batch_size, updated_at = clock_timestamp()
    RETURNING rows_done)
SELECT last, scanned, updated, (SELECT rows_done FROM saved) AS rows_done,
  (SELECT request FROM ${tables.operationRequests} WHERE operation = ?) AS request
  FROM progress`
  const bindings = [...(at.lastKey === null ? [] : [at.lastKey]), size, run.revision, run.step.direction, run.index, run.operation,
    at.rowsTotal, rate, etaMs(at.rowsTotal - at.rowsDone, rate), size, run.operation]
  const { rows } = await knex.raw<{ rows: BatchRow[] }>(sql, bindings).connection(run.session)
  return rows[0] as BatchRow
}

async function readCheckpoint (knex: Knex, run: BackfillRun): Promise<Checkpoint | null> {
  const row = await knex(tables.backfills).select('last_key', 'rows_done')
    .where({ revision: run.revision, direction: run.step.direction, step: run.index }).first().connection(run.session) as { last_key: string | null, rows_done: string } | undefined
  return row === undefined ? null : { lastKey: row.last_key, rowsDone: Number(row.rows_done) }
}

async function countRemaining (knex: Knex, run: BackfillRun, table: string, key: string, lastKey: string | null): Promise<number> {
  const after = lastKey === null ? '' : ` AND ${key} > ?`
  const { rows } = await knex.raw<{ rows: Array<{ remaining: string }> }>(
    `SELECT count(*) AS remaining FROM ${table} WHERE (${run.backfill.where})${after}`, lastKey === null ? [] : [lastKey]
  ).connection(run.session)
  return Number(rows[0]?.remaining ?? 0)
}

/**
 * A batch's own short timeouts: `lock_timeout` about the target duration (a batch waiting on a
 * row holds the rows it has, and writers queue behind it), `statement_timeout` a generous
 * multiple of it, never above the session's own.
 */
async function setBatchTimeouts (knex: Knex, run: BackfillRun, targetBatchMs: number): Promise<void> {
  const lockMs = Math.max(20, Math.min(run.lockTimeoutMs > 0 ? run.lockTimeoutMs : targetBatchMs, targetBatchMs))
  const own = Math.max(5000, targetBatchMs * 50)
  const statementMs = run.statementTimeoutMs > 0 ? Math.min(run.statementTimeoutMs, own) : own
  await knex.raw("SELECT set_config('lock_timeout', ?, false), set_config('statement_timeout', ?, false)", [`${lockMs}ms`, `${statementMs}ms`]).connection(run.session)
}

async function primaryKeyOf (knex: Knex, table: string, session: unknown): Promise<string> {
  const { rows } = await knex.raw<{ rows: Array<{ name: string }> }>(
    `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = to_regclass(?) AND i.indisprimary`, [quoteIdentifier(table)]
  ).connection(session)
  if (rows.length !== 1) throw new Error(`backfill of ${table}: it needs a single-column primary key or a key named in the step`)
  return (rows[0] as { name: string }).name
}

/** A name from the revision as one quoted identifier (`schema.table` as two). */
export function quoteIdentifier (name: string): string {
  return name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.')
}
