import { hostname, userInfo } from 'node:os'
import { loadRevisions, MigratorError, type MigratorLogger, type MigratorObserver, namesTheHeads, parsedTarget, RevisionGraph, verifyDatabaseState } from '../migrator/index.js'
import type { MigrationSettings } from '../config.js'
import { CliFailure, type ProgressReporter, type SchemaApi } from './api.js'
import type { Engine } from './engine.js'
import type { ReviewService } from '../review/service.js'
import { clearedMigration } from '../verbs/clearance.js'
import { headsView, revisionView } from '../verbs/views.js'

export interface DirectOptions {
  readonly databaseUrl: string
  readonly settings: MigrationSettings
  readonly progress: ProgressReporter
  readonly onWarning: (message: string) => void
}

/** The engine itself against the database: what the service would do, without the service. */
export async function openDirect (options: DirectOptions): Promise<SchemaApi> {
  const graph = RevisionGraph.build(await loadRevisions())
  const instance = `${hostname()}:${process.pid} (cli)`
  const actor = `cli:${userName()}`
  let opened: Promise<Engine> | null = null
  const engine = () => (opened ??= import('./engine.js').then(({ openEngine }) => openEngine(graph, { databaseUrl: options.databaseUrl, settings: options.settings, instance, logger: warningLogger(options), observer: progressObserver(graph, options.progress) })))
  const migrator = async () => (await engine()).migrator
  let reviewing: Promise<ReviewService> | null = null
  const review = () => (reviewing ??= Promise.all([engine(), import('../review/service.js')]).then(([{ knex }, { createReviewService }]) => createReviewService(knex, graph, options.settings.review)))
  const requester = { actor, token: null }
  return {
    current: async () => (await migrator()).status(),
    heads: async () => headsView(graph),
    history: async () => (await migrator()).history(),
    revision: async (ref) => revisionView(graph, ref),
    upgrade: async (body) => {
      // Only a plan or required approval has the gate to pass; without them the review service is not even loaded.
      if (body.planId !== undefined || options.settings.review.approvalRequired) {
        return (await migrator()).upgrade(await clearedMigration(await review(), actor, { direction: 'upgrade', target: body.target, dryRun: body.dryRun, planId: body.planId }))
      }
      const target = body.target ?? 'head'
      // A fresh process would otherwise take the engine's full path (bookkeeping DDL, lock,
      // reconcile) to learn there is nothing to do.
      if (!body.dryRun && namesTheHeads(graph, parsedTarget(target))) {
        const { recordNoOpUpgradeWithoutKnex } = await import('./no-op-upgrade.js')
        const checksums = Object.fromEntries(graph.all().map((revision) => [revision.revision, revision.checksum]))
        const { recorded, heads } = await recordNoOpUpgradeWithoutKnex(options.databaseUrl, { target, actor, instance, heads: graph.heads, checksums })
        if (recorded) return { from: heads, to: heads, dryRun: false, steps: [], ahead: [] }
      }
      return (await migrator()).upgrade({ target, dryRun: body.dryRun, actor })
    },
    downgrade: async (body) => (await migrator()).downgrade(await clearedMigration(await review(), actor, { direction: 'downgrade', target: body.target, dryRun: body.dryRun })),
    plan: async (body) => (await review()).plan(body, requester),
    approve: async (planId, body) => (await review()).approve(planId, requester, { override: body.override, fourEyes: false }),
    backups: async () => {
      const { listBackups } = await import('../backup/backups.js')
      return { backups: await listBackups((await engine()).knex) }
    },
    restoreBackup: async (id, restore) => {
      const { listBackups, restoreBackup, BackupRestoreRefusedError } = await import('../backup/backups.js')
      const backup = (await listBackups((await engine()).knex)).find((entry) => entry.id === id)
      if (backup === undefined) throw new CliFailure({ type: 'backup-not-found', detail: `no backup was taken by operation ${id} (aip-schema backups lists them)` })
      try {
        await restoreBackup(backup, { into: restore.into, source: options.databaseUrl, binDir: options.settings.backup.binDir, force: restore.force })
      } catch (error) {
        if (error instanceof BackupRestoreRefusedError) throw new CliFailure({ type: 'restore-refused', detail: error.message })
        throw error
      }
      return { restored: backup, into: redacted(restore.into) }
    },
    archives: async () => ({ archives: (await (await migrator()).archives()).map(({ schema: _schema, keyColumns: _keyColumns, ...archive }) => archive) }),
    restoreArchive: async (id, body) => ({ restoredRows: await (await migrator()).restoreArchive(id, body.into) }),
    // Whoever holds the database's credentials may already rewrite alembic_version by hand.
    stamp: async (body) => (await migrator()).stamp({ ...body, actor, allowBackwards: true }),
    integrity: async () => {
      try {
        verifyDatabaseState(graph, await (await migrator()).state())
        return []
      } catch (error) {
        if (error instanceof MigratorError) return [error.message]
        throw error
      }
    },
    drift: async () => {
      const [{ checkDrift }, { CatalogError }] = await Promise.all([import('../catalog/drift.js'), import('../catalog/errors.js')])
      try {
        return { report: await checkDrift((await engine()).knex, graph) }
      } catch (error) {
        if (error instanceof CatalogError) return { unavailable: error.message }
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { unavailable: `this build has no schema snapshots (${(error as Error).message})` }
        throw error
      }
    },
    targets: async () => (await import('./fleet-direct.js')).directTargets(options),
    fleet: async (filter) => (await import('./fleet-direct.js')).directFleet(graph, options, filter),
    createRollout: async () => { throw serviceOnly() },
    rollout: async () => { throw serviceOnly() },
    rolloutAction: async () => { throw serviceOnly() },
    skipRolloutTarget: async () => { throw serviceOnly() },
    close: async () => {
      if (opened !== null) await (await opened).knex.destroy()
    },
  }
}

/** A rollout's jobs run on the service's queue, across its replicas: no process of the command line's own can run one. */
function serviceOnly (): CliFailure {
  return new CliFailure({ type: 'service-only', detail: 'rollouts run in the service, whose replicas work their queue: give the running service with --url (token from AIP_SCHEMA_TOKEN)' })
}

/** The engine tells each step as it starts: that is the progress shown. */
function progressObserver (graph: RevisionGraph, progress: ProgressReporter): MigratorObserver {
  return {
    onStepStart ({ revision: id, direction, step, of }) {
      const revision = graph.get(id)
      progress.stepStarted({ revision: id, downRevisions: revision.downRevisions, description: revision.description, direction, index: step, of })
    },
    onBackfillProgress ({ rowsDone, rowsTotal, rowsPerSecond, etaMs }) {
      progress.backfillProgress({ rowsDone, rowsTotal, rowsPerSecond, etaMs })
    },
  }
}

/** The engine's warnings (a newer release ahead, a retry on lock_timeout) are the user's to read; its other logs are for a service's log. */
function warningLogger (options: DirectOptions): MigratorLogger {
  return {
    info () {},
    warn (_object, message) { options.onWarning(message) },
    error () {},
  }
}

function userName (): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

/** A database URL as it may be printed: without its password. */
function redacted (databaseUrl: string): string {
  const url = new URL(databaseUrl)
  if (url.password !== '') url.password = '***'
  return url.toString()
}
