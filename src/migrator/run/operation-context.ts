import type { Knex } from 'knex'
import type { ExpectedPlan } from '../graph/expected-plan.js'
import type { RevisionGraph } from '../graph/graph.js'
import type { ParsedTarget } from '../graph/targets.js'
import type { MigratorObserver } from '../observer.js'
import type { AuditLog, OperationBackup, OperationKind, StepReport } from '../store/audit.js'
import type { LockRetryPolicy } from './lock-retry.js'

export interface MigratorLogger {
  info (object: object, message: string): void
  warn (object: object, message: string): void
  error (object: object, message: string): void
}

export interface MigrationResult {
  readonly from: string[]
  readonly to: string[]
  readonly dryRun: boolean
  readonly steps: StepReport[]
  /** Applied revisions this code lacks: a newer release's, left as they are. */
  readonly ahead: string[]
}

/** One upgrade, downgrade or stamp, its target parsed once. */
export interface OperationRequest {
  readonly kind: OperationKind
  readonly target: ParsedTarget
  readonly dryRun: boolean
  readonly actor: string
  /** For a stamp: whether it purges, and whether the caller may move the version backwards. */
  readonly stamp: { readonly purge: boolean, readonly allowBackwards: boolean } | null
  /** An approved plan's starting state and steps, checked on the state read under the lock. */
  readonly expected?: ExpectedPlan
}

/** What an operation runs with: the engine's parts, and whether the process is stopping. */
export interface OperationContext {
  readonly knex: Knex
  readonly graph: RevisionGraph
  readonly audit: AuditLog
  readonly instance: string
  /** A schema target's schema, its migration lock's own key; null: the database's lock. */
  readonly lockScope?: string | null
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  readonly statementTimeoutMs: number | undefined
  readonly lockRetry: LockRetryPolicy
  /** How long transactional revisions in a row may share a transaction; 0: one each. */
  readonly groupMs: number
  /** How long an archive of what a step destroyed is kept. */
  readonly archiveRetentionDays: number
  /** Run before the first step of an upgrade or downgrade that has steps; throws BackupFailedError to keep it from starting. */
  readonly beforeFirstStep?: BeforeFirstStep | undefined
  readonly logger: MigratorLogger
  readonly observer: MigratorObserver | undefined
  readonly stopping: () => boolean
}

/** A backup taken before an operation's first step: what it took, recorded in the operation, or null for nothing taken. */
export type BeforeFirstStep = (operation: { readonly id: string, readonly kind: OperationKind }) => Promise<OperationBackup | null>
