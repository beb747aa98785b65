/**
 * The engine's one door: code outside `src/migrator` imports from here and nowhere else
 * (test/architecture/layers.test.ts holds it to that), but for the revisions themselves, which
 * import only the revision format, `revision.ts`. Inside, `graph/` is pure (revisions,
 * targets, planning, what a state means), `run/` works under the migration lock, `store/`
 * reads and writes the bookkeeping tables.
 */
export * from './errors.js'
export { migratorDefaults } from './defaults.js'
export type { LockAcquiredEvent, MigratorObserver, StepEvent, StepStartEvent } from './observer.js'
export { defaultMigrationsDir, loadRevisions, toRevision } from './revision-source.js'
export { createMigrator, SchemaMigrator, type CreateMigratorOptions, type HistoryEntry, type HistoryPage, type MigrateRequest, type MigrationResult, type MigratorLogger, type MigratorOptions, type SchemaStatus, type StampRequest, type StateView } from './schema-migrator.js'

export type { ExpectedPlan } from './graph/expected-plan.js'
export { RevisionGraph, revisionIdPattern } from './graph/graph.js'
export { planFor, type Plan, type PlanInput } from './graph/plan.js'
export type { PlanStep } from './graph/planning.js'
export { backfillText, defineRevision, isBackfill, statementsOf, stepsOf, type BackfillStep, type Revision, type RevisionDefinition, type RevisionStep } from './revision.js'
export { analyseState, verifyDatabaseState, type StateAnalysis } from './graph/state-analysis.js'
export { namesTheHeads, parsedTarget, parseTarget, type ParsedTarget } from './graph/targets.js'

export { defaultGroupMs } from './run/plan-runner.js'
export { defaultLockRetryPolicy, isLockTimeout, lockRetryDelayMs, type LockRetryPolicy } from './run/lock-retry.js'

export type { Operation, OperationBackup, OperationKind, OperationStatus, StepReport } from './store/audit.js'
export type { BeforeFirstStep } from './run/operation-context.js'
export { tables } from './store/bookkeeping.js'
export { archiveSchema, restoreTablePattern, type Archive } from './archive/archive-store.js'
export { archivingOf, type ArchiveKind, type Destruction, type StatementArchiving } from './archive/destruction.js'
export { pinnedDigest, preparedOnPool, recordNoOpUpgrade, type NoOpUpgradeEntry } from './store/no-op-upgrade.js'
export { readDatabaseState, type AppliedRevision, type DatabaseState, type InterruptedRevision } from './store/state.js'
export { versionChannel } from './store/version-channel.js'
export { nameList, splitTopLevel, unquote, withoutComments } from './sql-text.js'
