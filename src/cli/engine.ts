import { backupBeforeFirstStep } from '../backup/before-first-step.js'
import knexFactory, { type Knex } from 'knex'
import type { MigrationSettings } from '../config.js'
import { createMigrator, type MigratorLogger, type MigratorObserver, type RevisionGraph, type SchemaMigrator } from '../migrator/index.js'

export interface Engine {
  readonly knex: Knex
  readonly migrator: SchemaMigrator
}

export interface EngineOptions {
  readonly databaseUrl: string
  readonly settings: MigrationSettings
  readonly instance: string
  readonly logger: MigratorLogger
  readonly observer: MigratorObserver
}

/** Knex and the engine: loaded only by a verb that needs more than the no-op upgrade's one statement. */
export function openEngine (graph: RevisionGraph, options: EngineOptions): Engine {
  const { lock } = options.settings
  // One connection for the verb, one for the migration lock's session.
  const knex = knexFactory({
    client: 'pg',
    connection: options.databaseUrl,
    pool: { min: 0, max: 2 },
    acquireConnectionTimeout: 10_000,
    // A failed step reaches the user once, as the engine's error, not again through Knex's console logger.
    log: { warn: ignore, error: ignore, deprecate: ignore, debug: ignore },
  })
  const migrator = createMigrator({
    knex,
    graph,
    instance: options.instance,
    lockWaitMs: lock.waitMs,
    lockTimeoutMs: lock.lockTimeoutMs,
    lockRetry: { retries: lock.retries, baseMs: lock.retryBaseMs },
    groupMs: lock.groupMs,
    statementTimeoutMs: options.settings.database.migrationStatementTimeoutMs,
    archiveRetentionDays: options.settings.archiveRetentionDays,
    beforeFirstStep: backupBeforeFirstStep(options.settings.backup, options.databaseUrl),
    logger: options.logger,
    observer: options.observer,
  })
  return { knex, migrator }
}

function ignore (): void {}
