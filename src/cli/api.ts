import type { Static } from '@sinclair/typebox'
import type { HeadsSchema, HistorySchema, MigrationResultSchema, RevisionDetailSchema, SchemaStatusSchema } from '../schemas/migrations.js'
import type { BackupEntry } from '../backup/backups.js'
import type { ArchiveListSchema, RestoredArchiveSchema } from '../schemas/archives.js'
import type { PlanSchema } from '../schemas/plans.js'
import type { FleetSchema, TargetListSchema } from '../schemas/fleet.js'
import type { RolloutBodySchema, RolloutSchema } from '../schemas/rollouts.js'

export type SchemaStatus = Static<typeof SchemaStatusSchema>
export type Heads = Static<typeof HeadsSchema>
export type History = Static<typeof HistorySchema>
export type HistoryEntry = History['revisions'][number]
export type RevisionDetail = Static<typeof RevisionDetailSchema>
export type MigrationResult = Static<typeof MigrationResultSchema>
export type Step = MigrationResult['steps'][number]
export type Plan = Static<typeof PlanSchema>
export type ArchiveList = Static<typeof ArchiveListSchema>
export type RestoredArchive = Static<typeof RestoredArchiveSchema>
export type TargetList = Static<typeof TargetListSchema>
export type Fleet = Static<typeof FleetSchema>
export type Rollout = Static<typeof RolloutSchema>
export type RolloutBody = Static<typeof RolloutBodySchema>
export type RolloutAction = 'pause' | 'resume' | 'cancel' | 'retry'

/** `--env` and each `--label k:v`; every target that matches, on one page. */
export interface FleetFilter {
  readonly environment?: string
  readonly labels: readonly string[]
}

/** What a verb asks of the schema: the HTTP API's objects, whichever transport carries them. */
export interface SchemaApi {
  current (): Promise<SchemaStatus>
  heads (): Promise<Heads>
  history (): Promise<History>
  revision (ref: string): Promise<RevisionDetail>
  /** With `planId`, exactly that approved plan's steps; `target` may then be left out. */
  upgrade (body: { target?: string, dryRun: boolean, planId?: string }): Promise<MigrationResult>
  downgrade (body: { target: string, dryRun: boolean }): Promise<MigrationResult>
  stamp (body: { target: string, purge: boolean }): Promise<MigrationResult>
  plan (body: { target: string, direction: 'upgrade' | 'downgrade' }): Promise<Plan>
  approve (planId: string, body: { override?: string }): Promise<Plan>
  /** The dumps BACKUP_BEFORE_UPGRADE took; files on the machine that took them, so direct only. */
  backups (): Promise<{ backups: BackupEntry[] }>
  restoreBackup (id: string, options: { into: string, force: boolean }): Promise<{ restored: BackupEntry, into: string }>
  archives (): Promise<ArchiveList>
  restoreArchive (id: number, body: { into?: string }): Promise<RestoredArchive>
  /**
   * Why the database may not be migrated as it is (unknown revisions, applied SQL that changed);
   * `null` where the transport cannot tell.
   */
  integrity (): Promise<string[] | null>
  /** The live schema against the schema its revision should have (`GET /schema/drift`). */
  drift (): Promise<DriftCheck>
  /** The targets (`GET /targets`); directly, TARGETS_FILE's, the catalogs read once. */
  targets (): Promise<TargetList>
  /** Every matching target's status (`GET /fleet`, all pages); directly, each target read now. */
  fleet (filter: FleetFilter): Promise<Fleet>
  /** Rollouts live in the running service, whose queue does their work: through `--url` only. */
  createRollout (body: RolloutBody): Promise<Rollout>
  rollout (id: string): Promise<Rollout>
  rolloutAction (id: string, action: RolloutAction): Promise<Rollout>
  skipRolloutTarget (id: string, target: string): Promise<Rollout>
  close (): Promise<void>
}

export interface DriftReport {
  readonly revision: string | null
  readonly inSync: boolean
  readonly differences: ReadonlyArray<{ readonly detail: string }>
}

/** A report, or why there is none (no snapshot for the revision, a service without the route). */
export type DriftCheck = { readonly report: DriftReport } | { readonly unavailable: string }

/** What a long run tells as it goes, whichever transport carries it. */
export interface ProgressReporter {
  /** The engine begins a step (direct); told again when a shared transaction runs it a second time. */
  stepStarted (step: StepStart): void
  /** The service reports a step committed (`--url`), with its time. */
  stepDone (step: StepStart, durationMs: number): void
  /** A run followed through the service was read again: how many steps are done, of how many (null until planned). */
  operationRead (stepsDone: number, stepsTotal: number | null): void
  /** A backfill under way reports its rows: after each batch (direct), at each read (`--url`). */
  backfillProgress (progress: BackfillRows): void
}

/** Where a backfill stands; `rowsTotal` is an estimate. */
export interface BackfillRows {
  readonly rowsDone: number
  readonly rowsTotal: number
  readonly rowsPerSecond: number
  readonly etaMs: number | null
}

export interface StepStart {
  readonly revision: string
  readonly downRevisions: readonly string[]
  readonly description: string
  readonly direction: 'up' | 'down'
  /** 1-based. */
  readonly index: number
  /** null where the plan's length is not known in advance (a run followed through the service). */
  readonly of: number | null
}

/** An RFC 9457 problem, from the service or made from an engine error: what a failure prints. */
export interface CliProblem {
  readonly type: string
  readonly detail: string
  readonly [extension: string]: unknown
}

export class CliFailure extends Error {
  readonly problem: CliProblem
  constructor (problem: CliProblem) {
    super(problem.detail)
    this.problem = problem
  }
}
