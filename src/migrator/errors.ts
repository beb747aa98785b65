/**
 * The engine's errors: one family, structured fields, no HTTP. The routes map each `kind`
 * to a status code in one place (src/http/problems.ts); the CLI maps them to exit codes.
 */
export abstract class MigratorError extends Error {
  abstract readonly kind: MigratorErrorKind
  override get name (): string { return this.constructor.name }
}

export type MigratorErrorKind =
  | 'invalid-revision-graph'
  | 'invalid-target'
  | 'unknown-revision'
  | 'ambiguous-revision'
  | 'multiple-heads'
  | 'wrong-direction'
  | 'lock-not-acquired'
  | 'database-state-mismatch'
  | 'database-ahead'
  | 'migration-failed'
  | 'operation-not-found'
  | 'invalid-cursor'
  | 'stamp-not-allowed'
  | 'shutting-down'
  | 'pooled-migration-connection'
  | 'plan-stale'
  | 'archive-not-found'
  | 'archive-conflict'
  | 'backup-failed'
  | 'backfill-stopped'
  | 'not-pausable'

/** Duplicate ids, dangling down revisions or cycles: found when revisions are loaded. */
export class InvalidRevisionGraphError extends MigratorError {
  readonly problems: readonly string[]
  readonly kind = 'invalid-revision-graph'
  constructor (problems: readonly string[]) {
    super(`invalid revision graph: ${problems.join('; ')}`)
    this.problems = problems
  }
}

/** A target that does not parse, or a relative step that walks off the graph. */
export class InvalidTargetError extends MigratorError {
  readonly target: string
  readonly kind = 'invalid-target'
  constructor (target: string, reason: string) {
    super(`invalid target '${target}': ${reason}`)
    this.target = target
  }
}

export class UnknownRevisionError extends MigratorError {
  readonly revision: string
  readonly kind = 'unknown-revision'
  constructor (revision: string) {
    super(`no revision matches '${revision}'`)
    this.revision = revision
  }
}

export class AmbiguousRevisionError extends MigratorError {
  readonly prefix: string
  readonly candidates: readonly string[]
  readonly kind = 'ambiguous-revision'
  constructor (prefix: string, candidates: readonly string[]) {
    super(`'${prefix}' is ambiguous: it matches ${candidates.join(', ')}`)
    this.prefix = prefix
    this.candidates = candidates
  }
}

export class MultipleHeadsError extends MigratorError {
  readonly target: string
  readonly heads: readonly string[]
  readonly kind = 'multiple-heads'
  constructor (target: string, heads: readonly string[]) {
    super(`'${target}' is ambiguous with several heads (${heads.join(', ')}): merge them, or name one, or use 'heads'`)
    this.target = target
    this.heads = heads
  }
}

export class WrongDirectionError extends MigratorError {
  readonly target: string
  readonly direction: 'up' | 'down'
  readonly kind = 'wrong-direction'
  constructor (target: string, direction: 'up' | 'down', reason: string) {
    super(`cannot ${direction === 'up' ? 'upgrade' : 'downgrade'} to '${target}': ${reason}`)
    this.target = target
    this.direction = direction
  }
}

export interface LockHolder {
  readonly instance: string
  readonly operation: string | null
  readonly since: string
}

export class LockNotAcquiredError extends MigratorError {
  readonly waitedMs: number
  readonly holder: LockHolder | null
  readonly kind = 'lock-not-acquired'
  constructor (waitedMs: number, holder: LockHolder | null) {
    super(holder
      ? `the migration lock is held by ${holder.instance} since ${holder.since}; waited ${waitedMs} ms`
      : `the migration lock was not acquired within ${waitedMs} ms`)
    this.waitedMs = waitedMs
    this.holder = holder
  }
}

/** The database is at a revision the code does not know, or an applied revision changed. */
export class DatabaseStateMismatchError extends MigratorError {
  readonly unknownRevisions: readonly string[]
  readonly checksumMismatches: readonly string[]
  readonly kind = 'database-state-mismatch'
  constructor (
    unknownRevisions: readonly string[],
    checksumMismatches: readonly string[]
  ) {
    const parts: string[] = []
    if (unknownRevisions.length > 0) parts.push(`the database is at revisions this code does not know: ${unknownRevisions.join(', ')}`)
    if (checksumMismatches.length > 0) parts.push(`applied revisions whose SQL has since changed: ${checksumMismatches.join(', ')}`)
    super(`${parts.join('; ')}; use stamp to declare the database's true revision`)
    this.unknownRevisions = unknownRevisions
    this.checksumMismatches = checksumMismatches
  }
}

/**
 * A newer release applied revisions this code lacks. Reading and a no-op upgrade go on; what
 * would move the version in this code's terms would undo or hide the newer release's work.
 */
export class DatabaseAheadError extends MigratorError {
  readonly ahead: readonly string[]
  readonly kind = 'database-ahead'
  constructor (ahead: readonly string[]) {
    super(`the database is ahead of this code: it has revisions this code does not: ${ahead.join(', ')}; run this with the release that has them (or stamp --purge as an admin)`)
    this.ahead = ahead
  }
}

/** A session that held what a migration's statement waited for, when its `lock_timeout` ran out. */
export interface Blocker {
  readonly pid: number
  readonly applicationName: string
  readonly state: string | null
  /** How long the blocker's transaction had been open; null outside a transaction. */
  readonly transactionAgeMs: number | null
  /** The start of its current or last query. */
  readonly query: string
}

export interface FailureDetails {
  /** How many times the revision was tried (lock timeouts are retried). */
  readonly tries?: number
  /** Who blocked the last try, when it failed on `lock_timeout`. */
  readonly blockers?: readonly Blocker[]
}

/** What failed: a step of the plan, and what the database said. */
export interface StepFailure {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly databaseCode: string | null
  readonly databaseMessage: string
}

export class MigrationFailedError extends MigratorError {
  readonly revision: string
  readonly direction: 'up' | 'down'
  readonly databaseCode: string | null
  readonly databaseMessage: string
  readonly kind = 'migration-failed'
  readonly tries: number
  readonly blockers: readonly Blocker[]
  constructor (failure: StepFailure, details: FailureDetails & { readonly cause?: unknown } = {}) {
    super(`${failure.direction === 'up' ? 'upgrade' : 'downgrade'} of ${failure.revision} failed${tried(details.tries)}: ${failure.databaseMessage}${blockedBy(details.blockers)}`, { cause: details.cause })
    this.revision = failure.revision
    this.direction = failure.direction
    this.databaseCode = failure.databaseCode
    this.databaseMessage = failure.databaseMessage
    this.tries = details.tries ?? 1
    this.blockers = details.blockers ?? []
  }
}

function tried (tries: number | undefined): string {
  return tries === undefined || tries <= 1 ? '' : ` after ${tries} tries`
}

function blockedBy (blockers: readonly Blocker[] | undefined): string {
  if (blockers === undefined || blockers.length === 0) return ''
  return `; blocked by ${blockers.map((blocker) => `pid ${blocker.pid} (${blocker.applicationName || 'no application_name'}, ${blocker.state ?? 'unknown state'}${blocker.transactionAgeMs === null ? '' : `, transaction open ${blocker.transactionAgeMs} ms`}: ${blocker.query})`).join(', ')}`
}

export class OperationNotFoundError extends MigratorError {
  readonly id: string
  readonly kind = 'operation-not-found'
  constructor (id: string) {
    super(`no migration operation with id '${id}'`)
    this.id = id
  }
}

/** A page cursor this service did not hand out, or for a revision no longer in the graph. */
export class InvalidCursorError extends MigratorError {
  readonly cursor: string
  readonly kind = 'invalid-cursor'
  constructor (cursor: string) {
    super(`'${cursor}' is not a cursor of this history: pass the nextCursor of a previous page`)
    this.cursor = cursor
  }
}

/** A stamp that would hide applied revisions, asked for by a caller not allowed to. */
export class StampNotAllowedError extends MigratorError {
  readonly target: string
  readonly kind = 'stamp-not-allowed'
  constructor (target: string) {
    super(`stamping '${target}' moves the version backwards (or past unknown revisions): that needs the admin scope`)
    this.target = target
  }
}

/** The process is shutting down: nothing new starts, and a plan stops after the revision under way. */
export class ShuttingDownError extends MigratorError {
  readonly stoppedBefore: string | null
  readonly kind = 'shutting-down'
  constructor (stoppedBefore: string | null) {
    super(stoppedBefore === null
      ? 'the service is shutting down: no migration starts'
      : `the service is shutting down: stopped before ${stoppedBefore}; every revision before it is applied`)
    this.stoppedBefore = stoppedBefore
  }
}

/**
 * The migration connection goes through a transaction pooler: a session lock taken through it
 * would outlive the operation on a server session the next client inherits, and the revisions
 * would run beside another replica's. Nothing is taken; the fix is a direct URL.
 */
export class PooledMigrationConnectionError extends MigratorError {
  readonly kind = 'pooled-migration-connection'
  readonly setting = 'MIGRATION_DATABASE_URL'
  constructor () {
    super('the migration connection goes through a transaction pooler (its server session changes between transactions): no migration runs through it; set MIGRATION_DATABASE_URL to a direct connection to PostgreSQL')
  }
}

/** An approved plan whose starting state no longer holds: another replica migrated in between. */
export class PlanStaleError extends MigratorError {
  readonly expectedFrom: readonly string[]
  readonly actualFrom: readonly string[]
  readonly kind = 'plan-stale'
  constructor (expectedFrom: readonly string[], actualFrom: readonly string[]) {
    super(`the plan was made against ${expectedFrom.join(', ') || '<base>'} but the database is now at ${actualFrom.join(', ') || '<base>'}, or its steps differ: make a new plan`)
    this.expectedFrom = expectedFrom
    this.actualFrom = actualFrom
  }
}

export class ArchiveNotFoundError extends MigratorError {
  readonly id: number
  readonly kind = 'archive-not-found'
  constructor (id: number) {
    super(`no archive ${id}`)
    this.id = id
  }
}

/** A restore that cannot be done as asked: the live table lacks the archived columns, or the new table exists. */
export class ArchiveConflictError extends MigratorError {
  readonly id: number
  readonly kind = 'archive-conflict'
  constructor (id: number, reason: string) {
    super(`archive ${id} cannot be restored: ${reason}`)
    this.id = id
  }
}

/** The backup (or the hook) an upgrade or downgrade takes before its first step failed: the operation does not start. */
export class BackupFailedError extends MigratorError {
  readonly reason: string
  readonly kind = 'backup-failed'
  constructor (reason: string) {
    super(`no backup, so the migration did not start: ${reason}`)
    this.reason = reason
  }
}

/**
 * A backfill stopped between batches because someone asked: `pause` leaves its operation
 * paused (resumable), `cancel` ends it as failed. Either way the rows done stay done and the
 * checkpoint stays, so a later run carries on from it.
 */
export class BackfillStoppedError extends MigratorError {
  readonly kind = 'backfill-stopped'
  readonly revision: string
  readonly request: 'pause' | 'cancel'
  readonly rowsDone: number
  constructor (revision: string, request: 'pause' | 'cancel', rowsDone: number) {
    super(`${request === 'pause' ? 'paused' : 'cancelled'} in the backfill of ${revision} after ${rowsDone} rows; a later run resumes from its checkpoint`)
    this.revision = revision
    this.request = request
    this.rowsDone = rowsDone
  }
}

/** Pause, resume or cancel asked of an operation that is not running (or paused in) a backfill. */
export class NotPausableError extends MigratorError {
  readonly kind = 'not-pausable'
  readonly operation: string
  constructor (operation: string, reason: string) {
    super(`operation ${operation} ${reason}`)
    this.operation = operation
  }
}
