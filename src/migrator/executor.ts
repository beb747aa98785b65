import type { Knex } from 'knex'
import type { StepReport } from './audit.js'
import { MigrationFailedError } from './errors.js'
import type { RevisionGraph } from './graph.js'
import { sqlStateOf } from './pg-errors.js'
import type { PlanStep } from './planner.js'
import type { Revision } from './revision.js'
import { tables } from './bookkeeping.js'
import { versionChannel } from './version-channel.js'

export interface StepRun {
  readonly step: PlanStep
  /** What `alembic_version` holds once the step commits. */
  readonly headsAfter: readonly string[]
  readonly lockTimeoutMs: number
  /** PostgreSQL `statement_timeout` for the revision's statements; 0 lifts the data endpoints' limit. */
  readonly statementTimeoutMs?: number
  /** The connection to run on: the one whose session holds the migration lock. */
  readonly session: unknown
  /** Set for a dry run: the step runs inside it and is rolled back with it. */
  readonly dryRun?: Knex.Transaction
}

/**
 * Runs one revision. A transactional revision runs inside one transaction with every record of
 * it (`alembic_version`, the checksum, Knex's `knex_migrations` row): the schema change and its
 * bookkeeping commit or vanish together. Knex's own migrator is not run: it asks
 * `information_schema` for its two tables and takes its lock-table row in a transaction of its
 * own on every call, three times the round trips of the revision itself, and the advisory lock
 * already keeps replicas apart. Its table is kept as it would keep it, so `knex migrate:list`
 * reads true.
 */
export async function executeStep (knex: Knex, graph: RevisionGraph, run: StepRun): Promise<StepReport> {
  const revision = graph.get(run.step.revision)
  const sql: string[] = []
  const started = performance.now()
  try {
    if (run.dryRun !== undefined) {
      await runDry(run.dryRun, revision, run, sql)
    } else if (revision.transactional) {
      await knex.transaction((trx) => runInTransaction(trx, revision, run, sql), { connection: run.session })
    } else {
      await runOutsideTransaction(knex, revision, run, sql)
    }
  } catch (error) {
    throw new MigrationFailedError(revision.revision, run.step.direction, sqlStateOf(error), (error as Error).message, error)
  }
  return {
    revision: revision.revision,
    direction: run.step.direction,
    description: revision.description,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    sql,
  }
}

async function runDry (trx: Knex.Transaction, revision: Revision, run: StepRun, sql: string[]): Promise<void> {
  if (revision.transactional) {
    await runInTransaction(trx, revision, run, sql)
    return
  }
  // PostgreSQL refuses these statements inside a transaction: show them, run nothing.
  sql.push(...statementsOf(revision, run.step.direction))
}

async function runInTransaction (trx: Knex.Transaction, revision: Revision, run: StepRun, sql: string[]): Promise<void> {
  await trx.raw(sessionSettings(true), sessionValues(run))
  const statements = statementsOf(revision, run.step.direction)
  sql.push(...statements)
  // One round trip for the revision: inside a transaction no statement waits on the previous one's
  // answer, and PostgreSQL (13+) still applies the timeouts to each statement of the string.
  if (statements.length > 0) await trx.raw(statements.join(';\n'))
  await recordStep(trx, revision, run, sql)
}

/**
 * Statement by statement on one session, so `lock_timeout` applies to each; then the record,
 * one statement and so atomic on its own. Interrupted between the two, the revision is re-run
 * by the next upgrade: such revisions are written to be.
 */
async function runOutsideTransaction (knex: Knex, revision: Revision, run: StepRun, sql: string[]): Promise<void> {
  try {
    await knex.raw(sessionSettings(false), sessionValues(run)).connection(run.session)
    for (const statement of statementsOf(revision, run.step.direction)) {
      sql.push(statement)
      await knex.raw(statement).connection(run.session)
    }
    await recordStep(knex, revision, run, sql, run.session)
  } finally {
    await knex.raw('RESET lock_timeout; RESET statement_timeout').connection(run.session).catch(() => undefined)
  }
}

function sessionSettings (local: boolean): string {
  return `SELECT set_config('lock_timeout', ?, ${local}), set_config('statement_timeout', ?, ${local})`
}

function sessionValues (run: StepRun): string[] {
  return [`${run.lockTimeoutMs}ms`, `${run.statementTimeoutMs ?? 0}ms`]
}

/**
 * `alembic_version` set to exactly `heads`, as one statement's common table expressions: rows
 * that stay are neither deleted nor inserted, so they never collide.
 */
const versionRows = `removed AS (DELETE FROM ${tables.alembicVersion} WHERE NOT (version_num = ANY (CAST(? AS varchar[])))),
  added AS (INSERT INTO ${tables.alembicVersion} (version_num) SELECT unnest(CAST(? AS varchar[])) ON CONFLICT (version_num) DO NOTHING)`

const recordUp = `WITH ${versionRows},
  pinned AS (INSERT INTO ${tables.revisions} (revision, checksum) VALUES (?, ?)
    ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at),
  listed AS (INSERT INTO ${tables.knexMigrations} (name, batch, migration_time)
    SELECT ?, coalesce(max(batch), 0) + 1, now() FROM ${tables.knexMigrations})
SELECT pg_notify(?, ?)`

const recordDown = `WITH ${versionRows},
  unpinned AS (DELETE FROM ${tables.revisions} WHERE revision = ?),
  unlisted AS (DELETE FROM ${tables.knexMigrations} WHERE name = ?)
SELECT pg_notify(?, ?)`

/** Every record of the step, and the NOTIFY every replica hears on commit, in one round trip. */
async function recordStep (db: Knex | Knex.Transaction, revision: Revision, run: StepRun, sql: string[], connection?: unknown): Promise<void> {
  const heads = [...run.headsAfter]
  const statement = run.step.direction === 'up'
    ? db.raw(recordUp, [heads, heads, revision.revision, revision.checksum, revision.revision, versionChannel, heads.join(',')])
    : db.raw(recordDown, [heads, heads, revision.revision, revision.revision, versionChannel, heads.join(',')])
  sql.push(statement.toString())
  await (connection === undefined ? statement : statement.connection(connection))
}

/** For a stamp: `alembic_version` set to `heads`, and the NOTIFY, in one round trip. */
export async function writeVersionTable (db: Knex | Knex.Transaction, heads: readonly string[]): Promise<void> {
  await db.raw(`WITH ${versionRows} SELECT pg_notify(?, ?)`, [[...heads], [...heads], versionChannel, heads.join(',')])
}

function statementsOf (revision: Revision, direction: 'up' | 'down'): readonly string[] {
  return direction === 'up' ? revision.up : revision.down
}
