import knexFactory, { type Knex } from 'knex'
import { type MigratorLogger, type RevisionGraph, SchemaMigrator } from '../migrator/index.js'

export interface Engine {
  readonly knex: Knex
  readonly migrator: SchemaMigrator
}

export interface EngineOptions {
  readonly databaseUrl: string
  readonly instance: string
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  readonly lockRetry: { readonly retries: number, readonly baseMs: number }
  readonly groupMs: number
  readonly logger: MigratorLogger
}

/** Knex and the engine: loaded only by a verb that needs more than the no-op upgrade's one statement. */
export function openEngine (graph: RevisionGraph, options: EngineOptions): Engine {
  // One connection for the verb, one for the migration lock's session.
  const knex = knexFactory({
    client: 'pg',
    connection: options.databaseUrl,
    pool: { min: 0, max: 2 },
    acquireConnectionTimeout: 10_000,
    // A failed step reaches the user once, as the engine's error, not again through Knex's console logger.
    log: { warn: ignore, error: ignore, deprecate: ignore, debug: ignore },
  })
  const migrator = new SchemaMigrator({
    knex,
    graph,
    instance: options.instance,
    lockWaitMs: options.lockWaitMs,
    lockTimeoutMs: options.lockTimeoutMs,
    lockRetry: options.lockRetry,
    groupMs: options.groupMs,
    logger: options.logger,
  })
  return { knex, migrator }
}

function ignore (): void {}
