import knexFactory, { type Knex } from 'knex'
import { createMigrator, type CreateMigratorOptions, type SchemaMigrator } from '../../migrator/index.js'
import type { FleetTarget } from './target.js'

/** A migrator for one target, held only while a job runs, closed after. */
export interface TargetMigratorLease {
  readonly migrator: SchemaMigrator
  close (): Promise<void>
}

/** The engine's settings but its connection, which the target gives. */
export type TargetMigratorOptions = Omit<CreateMigratorOptions, 'knex' | 'lockScope'> & {
  /** Connections of the lease's pool: the lock's session (the operation's bookkeeping runs on it too), and the blocker probe beside a waiting statement. */
  readonly poolMax?: number
  readonly connectTimeoutMs?: number
}

/**
 * A pool on the target's migration URL (else its URL). A schema target's pool has only that
 * schema on its search path, so the engine's unqualified tables (`alembic_version`, the
 * bookkeeping) and the revisions land in it; the pool is made with `min: 0` and `max` small.
 */
export function openTargetKnex (target: FleetTarget, options: { readonly poolMax: number, readonly connectTimeoutMs?: number, readonly readTimeoutMs?: number }): Knex {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  // A read (the fleet view's) gives up rather than wait behind a lock a migration holds.
  const readTimeouts = options.readTimeoutMs === undefined ? {} : { statement_timeout: options.readTimeoutMs, lock_timeout: options.readTimeoutMs }
  return knexFactory({
    log: quietKnexLog,
    client: 'pg',
    connection: { connectionString: target.migrationUrl ?? target.url, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true, ...readTimeouts },
    ...(target.schema === null ? {} : { searchPath: [target.schema] }),
    pool: { min: 0, max: options.poolMax, idleTimeoutMillis: 5_000 },
    acquireConnectionTimeout: connectTimeoutMs,
  })
}

/**
 * Knex writes connection errors to the console by default: a line that is not JSON in the
 * service's log, and noise in the command line's output. The callers say what failed, naming the target.
 */
export const quietKnexLog = { warn () {}, error () {}, deprecate () {}, debug () {} }

/** The lock scope of a target: a schema's own, but `public`'s is the database's own lock. */
export function lockScopeOf (target: FleetTarget): string | null {
  return target.schema === null || target.schema === 'public' ? null : target.schema
}

/**
 * Opens a migrator for one target. A schema target's schema is made when missing (its name is
 * validated and quoted), and its migration lock's key includes the schema, so two schemas of
 * one database migrate at once.
 */
export async function openTargetMigrator (target: FleetTarget, options: TargetMigratorOptions): Promise<TargetMigratorLease> {
  const { poolMax = 2, connectTimeoutMs, ...engine } = options
  const knex = openTargetKnex(target, { poolMax, connectTimeoutMs })
  try {
    if (target.schema !== null) await createSchema(knex, target.schema)
  } catch (error) {
    await knex.destroy()
    throw error
  }
  const migrator = createMigrator({ ...engine, knex, lockScope: lockScopeOf(target) })
  return {
    migrator,
    async close () {
      await migrator.idle()
      await knex.destroy()
    },
  }
}

/** Two jobs making one schema at once: the loser's unique violation means it is there. */
async function createSchema (knex: Knex, schema: string): Promise<void> {
  try {
    await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema])
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error
  }
}
