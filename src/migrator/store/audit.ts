import type { Knex } from 'knex'
import { tables } from './bookkeeping.js'
import type { Blocker } from '../errors.js'
import { migrationLockHeldSql } from '../run/lock.js'
import { isUndefinedTable, sqlStateOf } from '../../database/pg-errors.js'

export type OperationKind = 'upgrade' | 'downgrade' | 'stamp'
export type OperationStatus = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed'

export interface StepReport {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly description: string
  readonly durationMs: number
  /** More than 1 when `lock_timeout` made it try again. */
  readonly tries: number
  /** A non-transactional revision cut off earlier, run again from its start. */
  readonly resumed: boolean
  readonly sql: string[]
  /** A revision with a backfill: the rows its backfills updated, over every run of it. */
  readonly rowsDone?: number
}

export interface OperationError {
  readonly kind: string
  readonly message: string
  readonly revision?: string
  readonly code?: string | null
  readonly tries?: number
  readonly blockers?: Blocker[]
  /** For `connection-lost`: the last revision the operation got done, null for none. */
  readonly lastDone?: string | null
}

/**
 * A step as the audit log shows it: its SQL only when asked for; `tries` and `resumed` are missing
 * from steps recorded before they were.
 */
export type OperationStep = Omit<StepReport, 'sql' | 'tries' | 'resumed' | 'rowsDone'> & { readonly sql?: string[], readonly tries?: number, readonly resumed?: boolean } & BackfillStepProgress

/** A backfill under way (or paused) is shown as a step of its operation, `inProgress`, until its revision is recorded. */
export interface BackfillStepProgress {
  readonly rowsDone?: number
  /** An estimate: the rows its predicate selected when the run started, plus those done before. */
  readonly rowsTotal?: number
  readonly rowsPerSecond?: number
  readonly etaMs?: number | null
  readonly inProgress?: boolean
}

/** What was taken before an operation's first step: the dump (BACKUP_BEFORE_UPGRADE), and the hook's answer. */
export interface OperationBackup {
  /** null when only the hook ran. */
  readonly path: string | null
  readonly bytes: number | null
  readonly sha256: string | null
  /** BACKUP_HOOK: the command run, and what it printed (a snapshot's id, say). */
  readonly hook?: { readonly command: string, readonly output: string }
}

export interface Operation {
  readonly id: string
  readonly kind: OperationKind
  readonly target: string
  readonly dryRun: boolean
  readonly status: OperationStatus
  readonly from: string[] | null
  readonly to: string[] | null
  readonly steps: OperationStep[]
  /** Steps completed so far, and how many the plan has (null until it is made). */
  readonly stepsDone: number
  readonly stepsTotal: number | null
  readonly error: OperationError | null
  readonly actor: string
  readonly instance: string
  readonly startedAt: string
  readonly finishedAt: string | null
  /** Only on an operation that took one. */
  readonly backup?: OperationBackup
}

interface OperationRow {
  id: string
  kind: OperationKind
  target: string
  dry_run: boolean
  status: OperationStatus
  from_revisions: string[] | null
  to_revisions: string[] | null
  /** Where operations recorded before the steps table kept their steps. */
  steps: StepReport[]
  step_rows?: OperationStep[]
  backfill_rows?: OperationStep[] | null
  steps_done?: number
  steps_total?: number | null
  error: OperationError | null
  actor: string
  instance: string
  started_at: Date
  finished_at: Date | null
  backup?: OperationBackup | null
}

export interface ReadOptions {
  /** Each step's SQL too: a thousand steps' SQL is most of an operation's size. */
  readonly includeSql?: boolean
}

/** Bookkeeping older than the steps table: the steps are in the operation's own row. */
const olderBookkeeping = new Set(['42P01', '42703'])

/** An operation with its steps, one round trip; `?` is whether to include their SQL. */
const selectOperations = `SELECT o.*, s.step_rows, s.steps_done, b.backfill_rows
  FROM ${tables.operations} o
  LEFT JOIN LATERAL (
    SELECT coalesce(jsonb_agg(CASE WHEN CAST(? AS boolean) THEN step ELSE step - 'sql' END ORDER BY position), '[]') AS step_rows,
           count(*)::int AS steps_done
      FROM ${tables.operationSteps} WHERE operation = o.id
  ) s ON true
  LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object('revision', k.revision, 'direction', k.direction, 'description', coalesce(r.description, ''),
             'durationMs', round(extract(epoch FROM (k.updated_at - o.started_at)) * 1000), 'rowsDone', k.rows_done,
             'rowsTotal', greatest(k.rows_total, k.rows_done), 'rowsPerSecond', coalesce(k.rows_per_second, 0), 'etaMs', k.eta_ms, 'inProgress', true)
             ORDER BY k.revision, k.step) AS backfill_rows
      FROM ${tables.backfills} k LEFT JOIN ${tables.revisions} r ON r.revision = k.revision WHERE k.operation = o.id
  ) b ON true`

const table = tables.operations

/**
 * Closes running operations as failed: `interrupted` where a non-transactional revision of
 * theirs was cut off part-way (some of its statements may be applied), else `abandoned`.
 */
const closeQuery = `UPDATE ${tables.operations} o SET status = 'failed', finished_at = clock_timestamp(),
    error = CASE WHEN i.revision IS NULL
      THEN jsonb_build_object('kind', 'abandoned', 'message', 'the process running this operation ended before it finished')
      ELSE jsonb_build_object('kind', 'interrupted', 'revision', i.revision,
        'message', 'cut off part-way through the non-transactional revision ' || i.revision || '; the next upgrade runs it again')
    END
  FROM ${tables.operations} r LEFT JOIN ${tables.interrupted} i ON i.operation = r.id
  WHERE o.id = r.id AND o.status = 'running'`

/** Who asked for what: an operation's row as it is opened. */
interface OperationEntry { kind: OperationKind, target: string, dryRun: boolean, actor: string, instance: string }

function rowOf (entry: OperationEntry) {
  return { kind: entry.kind, target: entry.target, dry_run: entry.dryRun, actor: entry.actor, instance: entry.instance }
}

/**
 * The audit log. Operation rows are written outside migration transactions so a failure is
 * recorded too; a step's row is written with the step, in the statement that records it (`recordSteps`).
 */
export function createAuditLog (knex: Knex) {
  return {
    async open (entry: OperationEntry & { status: OperationStatus }): Promise<Operation> {
      const [row] = await knex<OperationRow>(table).insert({ ...rowOf(entry), status: entry.status }).returning('*')
      return toOperation(row as OperationRow, {})
    },

    /**
     * An operation that had nothing to do, recorded finished in one statement: never seen as
     * running, so no replica can take it for abandoned.
     */
    async recordFinished (entry: OperationEntry & { heads: string[] }): Promise<Operation> {
      const [row] = await knex<OperationRow>(table).insert({
        ...rowOf(entry),
        status: 'succeeded',
        from_revisions: JSON.stringify(entry.heads),
        to_revisions: JSON.stringify(entry.heads),
        steps_total: 0,
        finished_at: knex.raw('clock_timestamp()'),
      } as Record<string, unknown>).returning('*')
      return toOperation(row as OperationRow, {})
    },

    async update (id: string, change: { status?: OperationStatus, from?: string[], to?: string[], stepsTotal?: number, error?: OperationError | null, finished?: boolean, backup?: OperationBackup }): Promise<void> {
      const patch: Record<string, unknown> = {}
      if (change.status !== undefined) patch.status = change.status
      if (change.from !== undefined) patch.from_revisions = JSON.stringify(change.from)
      if (change.to !== undefined) patch.to_revisions = JSON.stringify(change.to)
      if (change.stepsTotal !== undefined) patch.steps_total = change.stepsTotal
      if (change.backup !== undefined) patch.backup = JSON.stringify(change.backup)
      if (change.error !== undefined) patch.error = change.error === null ? null : JSON.stringify(change.error)
      if (change.finished === true) patch.finished_at = knex.raw('clock_timestamp()')
      await knex(table).where({ id }).update(patch)
    },

    /** Closes an operation as failed, unless something closed it meanwhile (another replica, as abandoned). */
    async closeFailed (id: string, error: OperationError): Promise<void> {
      await knex(table).where({ id }).whereNull('finished_at')
        .update({ status: 'failed', error: JSON.stringify(error), finished_at: knex.raw('clock_timestamp()') })
    },

    /** Asks a running operation's backfill to pause or cancel at its next batch; any replica may ask. */
    async requestStop (id: string, request: 'pause' | 'cancel'): Promise<void> {
      await knex.raw(`INSERT INTO ${tables.operationRequests} (operation, request) VALUES (?, ?)
        ON CONFLICT (operation) DO UPDATE SET request = EXCLUDED.request, requested_at = clock_timestamp()`, [id, request])
    },

    /** A paused operation queued again, now this instance's; false when it was not paused (a resume got there first). */
    async requeuePaused (id: string, instance: string): Promise<boolean> {
      const updated = await knex(table).where({ id, status: 'paused' }).update({ status: 'queued', instance })
      return updated > 0
    },

    /**
     * Called under the lock by an operation about to migrate: a paused one is overtaken, as this
     * one resumes its backfill from the checkpoint; left paused, a resume would find nothing to do.
     */
    async closeOvertaken (currentId: string): Promise<number> {
      const error: OperationError = { kind: 'overtaken', message: `operation ${currentId} took the migration on while this one was paused; it resumed the backfill from the checkpoint` }
      return knex(table).where({ status: 'paused' }).whereNot({ id: currentId }).whereNull('finished_at')
        .update({ status: 'failed', error: JSON.stringify(error), finished_at: knex.raw('clock_timestamp()') })
    },

    /** A dry run's steps, once it is rolled back: what would have run. */
    async appendSteps (id: string, from: number, steps: readonly StepReport[]): Promise<void> {
      if (steps.length === 0) return
      await knex(tables.operationSteps).insert(steps.map((step, index) => ({ operation: id, position: from + index, step: JSON.stringify(step) })))
    },

    /**
     * Called under the migration lock: a `running` operation other than ours lost its process
     * (a running operation holds the lock), so it is closed as failed instead of running forever.
     */
    async closeAbandoned (currentId: string): Promise<number> {
      const { rowCount } = await knex.raw(`${closeQuery} AND o.id <> ?`, [currentId])
      return rowCount ?? 0
    },

    /**
     * At start-up, while nobody migrates: an operation cut off in a non-transactional revision
     * is closed now rather than at the next migration, so the log says at once what happened.
     */
    async closeInterrupted (): Promise<number> {
      try {
        const { rowCount } = await knex.raw(`${closeQuery} AND i.revision IS NOT NULL AND NOT ${migrationLockHeldSql}`)
        return rowCount ?? 0
      } catch (error) {
        if (isUndefinedTable(error)) return 0
        throw error
      }
    },

    /** Read-only: a database that has never migrated simply has no history. */
    async list (limit: number, options: ReadOptions = {}): Promise<Operation[]> {
      const rows = await readRows(knex, options, 'ORDER BY o.started_at DESC, o.id DESC LIMIT ?', [limit])
      return rows.map((row) => toOperation(row, options))
    },

    async get (id: string, options: ReadOptions = {}): Promise<Operation | null> {
      const [row] = await readRows(knex, options, 'WHERE o.id = ?', [id])
      return row === undefined ? null : toOperation(row, options)
    },

    /** The operation a replica is running, to name it when another replica waits for the lock. */
    async runningOn (instance: string): Promise<Operation | null> {
      try {
        const row = await knex<OperationRow>(table).select('*').where({ instance, status: 'running' }).orderBy('started_at', 'desc').first()
        return row === undefined ? null : toOperation(row as OperationRow, {})
      } catch (error) {
        if (isUndefinedTable(error)) return null
        throw error
      }
    },
  }
}

export type AuditLog = ReturnType<typeof createAuditLog>

/** Read-only: a database that has never migrated simply has no history. */
async function readRows (knex: Knex, options: ReadOptions, rest: string, values: Array<string | number>): Promise<OperationRow[]> {
  try {
    return (await knex.raw<{ rows: OperationRow[] }>(`${selectOperations} ${rest}`, [options.includeSql === true, ...values])).rows
  } catch (error) {
    if (isUndefinedTable(error) && !(await knex.raw<{ rows: Array<{ present: boolean }> }>(`SELECT to_regclass('${tables.operations}') IS NOT NULL AS present`)).rows[0]?.present) return []
    if (!olderBookkeeping.has(sqlStateOf(error) ?? '')) throw error
  }
  return (await knex.raw<{ rows: OperationRow[] }>(`SELECT o.* FROM ${tables.operations} o ${rest}`, values)).rows
}

function toOperation (row: OperationRow, options: ReadOptions): Operation {
  const recorded = row.step_rows !== undefined && (row.steps_done ?? 0) > 0
  const steps: OperationStep[] = [...(recorded ? row.step_rows ?? [] : row.steps.map(({ sql, ...step }) => options.includeSql === true ? { ...step, sql } : step))]
  const stepsDone = recorded ? row.steps_done ?? 0 : row.steps.length
  steps.push(...row.backfill_rows ?? [])
  return {
    id: row.id,
    kind: row.kind,
    target: row.target,
    dryRun: row.dry_run,
    status: row.status,
    from: row.from_revisions,
    to: row.to_revisions,
    steps,
    stepsDone,
    stepsTotal: row.steps_total ?? (row.finished_at === null ? null : stepsDone),
    error: row.error,
    actor: row.actor,
    instance: row.instance,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    ...(row.backup === undefined || row.backup === null ? {} : { backup: row.backup }),
  }
}
