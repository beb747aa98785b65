import type { Knex } from 'knex'
import type { StepReport } from './audit.js'
import { MigrationFailedError } from './errors.js'
import type { RevisionGraph } from './graph.js'
import { sqlStateOf } from './pg-errors.js'
import type { PlanStep } from './planner.js'
import type { Revision } from './revision.js'
import { tables } from './bookkeeping.js'
import { notifyVersionChanged } from './version-channel.js'

export interface StepRun {
  readonly step: PlanStep
  /** What `alembic_version` holds once the step commits. */
  readonly headsAfter: readonly string[]
  readonly lockTimeoutMs: number
  /** PostgreSQL `statement_timeout` for the revision's statements; 0 lifts the data endpoints' limit. */
  readonly statementTimeoutMs?: number
  /** The `application_name` the step's session carries while it runs, so a shutdown can cancel it. */
  readonly sessionName?: string
  /** Set for a dry run: the step runs inside it (under a savepoint) and is rolled back with it. */
  readonly dryRun?: Knex.Transaction
}

/**
 * Runs one revision through Knex's migrator, so Knex's bookkeeping (`knex_migrations`) stays
 * its own. A transactional revision runs inside a transaction of ours that also carries the
 * `alembic_version` row, the checksum and Knex's row: the schema change and every record of
 * it commit or vanish together.
 */
export async function executeStep (knex: Knex, graph: RevisionGraph, run: StepRun): Promise<StepReport> {
  const revision = graph.get(run.step.revision)
  const sql: string[] = []
  const started = performance.now()
  try {
    if (run.dryRun !== undefined) {
      await runDry(run.dryRun, graph, revision, run, sql)
    } else if (revision.transactional) {
      await knex.transaction((trx) => migrate(trx, graph, run, sql))
    } else {
      await migrate(knex, graph, run, sql)
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

async function runDry (trx: Knex.Transaction, graph: RevisionGraph, revision: Revision, run: StepRun, sql: string[]): Promise<void> {
  if (revision.transactional) {
    await migrate(trx, graph, run, sql)
    return
  }
  // PostgreSQL refuses these statements inside a transaction: show them, run nothing.
  sql.push(...statementsOf(revision, run.step.direction))
}

function migrate (knex: Knex | Knex.Transaction, graph: RevisionGraph, run: StepRun, sql: string[]): Promise<unknown> {
  const config = { migrationSource: sourceFor(graph, run, sql), tableName: tables.knexMigrations, name: run.step.revision }
  return run.step.direction === 'up' ? knex.migrate.up(config) : knex.migrate.down(config)
}

function sourceFor (graph: RevisionGraph, run: StepRun, sql: string[]): Knex.MigrationSource<Revision> {
  return {
    getMigrations: async () => [...graph.all()],
    getMigrationName: (revision) => revision.revision,
    getMigration: async (revision) => ({
      config: { transaction: revision.transactional },
      up: (db: Knex) => apply(db, revision, 'up', run, sql),
      down: (db: Knex) => apply(db, revision, 'down', run, sql),
    }),
  }
}

async function apply (db: Knex, revision: Revision, direction: 'up' | 'down', run: StepRun, sql: string[]): Promise<void> {
  if (revision.transactional) {
    if (run.sessionName !== undefined) await db.raw("SELECT set_config('application_name', ?, true)", [run.sessionName])
    await db.raw("SELECT set_config('lock_timeout', ?, true), set_config('statement_timeout', ?, true)", [`${run.lockTimeoutMs}ms`, `${run.statementTimeoutMs ?? 0}ms`])
    for (const statement of statementsOf(revision, direction)) {
      sql.push(statement)
      await db.raw(statement)
    }
    await recordStep(db, revision, direction, run.headsAfter, sql)
    return
  }
  await runOutsideTransaction(db, statementsOf(revision, direction), run, sql)
  await db.transaction((trx) => recordStep(trx, revision, direction, run.headsAfter, sql))
}

/** Statement by statement on one session, so `lock_timeout` applies to each. */
async function runOutsideTransaction (knex: Knex, statements: readonly string[], run: StepRun, sql: string[]): Promise<void> {
  const connection = await knex.client.acquireConnection()
  try {
    if (run.sessionName !== undefined) await knex.raw("SELECT set_config('application_name', ?, false)", [run.sessionName]).connection(connection)
    await knex.raw("SELECT set_config('lock_timeout', ?, false), set_config('statement_timeout', ?, false)", [`${run.lockTimeoutMs}ms`, `${run.statementTimeoutMs ?? 0}ms`]).connection(connection)
    for (const statement of statements) {
      sql.push(statement)
      await knex.raw(statement).connection(connection)
    }
  } finally {
    await knex.raw('RESET lock_timeout; RESET statement_timeout').connection(connection).catch(() => undefined)
    if (run.sessionName !== undefined) await knex.raw('RESET application_name').connection(connection).catch(() => undefined)
    await knex.client.releaseConnection(connection)
  }
}

async function recordStep (db: Knex | Knex.Transaction, revision: Revision, direction: 'up' | 'down', headsAfter: readonly string[], sql: string[]): Promise<void> {
  await writeVersionTable(db, headsAfter, sql)
  if (direction === 'up') {
    await db(tables.revisions).insert({ revision: revision.revision, checksum: revision.checksum })
      .onConflict('revision').merge(['checksum', 'applied_at'])
  } else {
    await db(tables.revisions).where({ revision: revision.revision }).delete()
  }
}

export async function writeVersionTable (db: Knex | Knex.Transaction, heads: readonly string[], sql?: string[]): Promise<void> {
  const remove = db(tables.alembicVersion).delete()
  sql?.push(remove.toString())
  await remove
  if (heads.length > 0) {
    const insert = db(tables.alembicVersion).insert(heads.map((versionNum) => ({ version_num: versionNum })))
    sql?.push(insert.toString())
    await insert
  }
  await notifyVersionChanged(db, heads)
}

function statementsOf (revision: Revision, direction: 'up' | 'down'): readonly string[] {
  return direction === 'up' ? revision.up : revision.down
}
