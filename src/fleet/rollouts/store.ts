import type { Knex } from 'knex'
import { tables } from '../../migrator/index.js'
import type { OnError, RolloutStatus, TargetStatus } from './scheduler.js'

/** The rollout tables, in the service's own database beside the engine's bookkeeping (drift ignores them). */
export const rolloutTables = { rollouts: tables.rollouts, targets: tables.rolloutTargets } as const

/** Serialises the tables' creation between replicas starting together. */
const rolloutDdlLockKey = 0x61697073_05

export type RolloutVerb = 'upgrade' | 'downgrade' | 'stamp'

export interface RolloutTargetRow {
  readonly name: string
  readonly status: TargetStatus
  readonly canary: boolean
  readonly attempt: number
  readonly before: string[] | null
  readonly after: string[] | null
  readonly steps: number | null
  readonly durationMs: number | null
  readonly operationId: string | null
  readonly problem: Record<string, unknown> | null
}

export interface RolloutRow {
  readonly id: string
  readonly verb: RolloutVerb
  readonly target: string
  readonly environment: string | null
  readonly status: RolloutStatus
  readonly actor: string
  readonly planId: string | null
  /** An admin's reason for rolling out past an environment not yet promoted; null without one. */
  readonly overrideReason: string | null
  readonly maxParallel: number
  readonly maxFailures: number
  readonly onError: OnError
  readonly createdAt: string
  readonly finishedAt: string | null
}

export interface NewRollout extends Omit<RolloutRow, 'id' | 'status' | 'createdAt' | 'finishedAt'> {
  readonly targets: ReadonlyArray<{ readonly name: string, readonly canary: boolean }>
}

/** Whether a rollout is still under way (queued, running or paused): its jobs need this replica's worker too. */
export async function hasUnfinishedRollouts (knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: Array<{ present: boolean }> }>('SELECT to_regclass(?) IS NOT NULL AS present', [rolloutTables.rollouts])
  if (rows[0]?.present !== true) return false
  return (await knex(rolloutTables.rollouts).whereNull('finished_at').first('id')) !== undefined
}

export async function ensureRolloutTables (knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [rolloutDdlLockKey])
    await trx.raw(`CREATE TABLE IF NOT EXISTS ${rolloutTables.rollouts} (
      id uuid PRIMARY KEY,
      seq bigserial UNIQUE,
      verb text NOT NULL,
      target text NOT NULL,
      environment text,
      status text NOT NULL,
      actor text NOT NULL,
      plan_id text,
      override_reason text,
      max_parallel int NOT NULL,
      max_failures int NOT NULL,
      on_error text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`)
    await trx.raw(`CREATE TABLE IF NOT EXISTS ${rolloutTables.targets} (
      rollout_id uuid NOT NULL REFERENCES ${rolloutTables.rollouts} (id) ON DELETE CASCADE,
      position int NOT NULL,
      name text NOT NULL,
      canary boolean NOT NULL,
      status text NOT NULL,
      attempt int NOT NULL DEFAULT 0,
      before jsonb,
      after jsonb,
      steps int,
      duration_ms int,
      operation_id text,
      problem jsonb,
      PRIMARY KEY (rollout_id, name)
    )`)
  })
}

interface RawRollout {
  id: string,
  seq: string,
  verb: RolloutVerb,
  target: string,
  environment: string | null,
  status: RolloutStatus,
  actor: string,
  plan_id: string | null,
  override_reason: string | null,
  max_parallel: number,
  max_failures: number,
  on_error: OnError,
  created_at: Date,
  finished_at: Date | null
}
interface RawTarget {
  rollout_id: string,
  name: string,
  status: TargetStatus,
  canary: boolean,
  attempt: number,
  before: string[] | null,
  after: string[] | null,
  steps: number | null,
  duration_ms: number | null,
  operation_id: string | null,
  problem: Record<string, unknown> | null
}

const rolloutOf = (row: RawRollout): RolloutRow => ({
  id: row.id,
  verb: row.verb,
  target: row.target,
  environment: row.environment,
  status: row.status,
  actor: row.actor,
  planId: row.plan_id,
  overrideReason: row.override_reason,
  maxParallel: row.max_parallel,
  maxFailures: row.max_failures,
  onError: row.on_error,
  createdAt: row.created_at.toISOString(),
  finishedAt: row.finished_at?.toISOString() ?? null,
})

const targetOf = (row: RawTarget): RolloutTargetRow => ({
  name: row.name,
  status: row.status,
  canary: row.canary,
  attempt: row.attempt,
  before: row.before,
  after: row.after,
  steps: row.steps,
  durationMs: row.duration_ms,
  operationId: row.operation_id,
  problem: row.problem,
})

/** What a target's job records once its operation ended. */
export interface TargetOutcome {
  readonly status: 'succeeded' | 'failed' | 'unreachable'
  readonly before: string[] | null
  readonly after: string[] | null
  readonly steps: number
  readonly durationMs: number
  readonly operationId: string | null
  readonly problem: Record<string, unknown> | null
}

/** Reads and writes of the rollout rows; `db` is the knex or a transaction. */
export function rolloutStore (db: Knex | Knex.Transaction) {
  return {
    async insert (id: string, rollout: NewRollout): Promise<void> {
      await db(rolloutTables.rollouts).insert({
        id,
        verb: rollout.verb,
        target: rollout.target,
        environment: rollout.environment,
        status: 'queued',
        actor: rollout.actor,
        plan_id: rollout.planId,
        override_reason: rollout.overrideReason,
        max_parallel: rollout.maxParallel,
        max_failures: rollout.maxFailures,
        on_error: rollout.onError,
      })
      const rows = rollout.targets.map((target, position) => ({ rollout_id: id, position, name: target.name, canary: target.canary, status: 'pending' }))
      for (let index = 0; index < rows.length; index += 1000) await db(rolloutTables.targets).insert(rows.slice(index, index + 1000))
    },

    async rollout (id: string, options: { forUpdate?: boolean } = {}): Promise<RolloutRow | null> {
      const query = db<RawRollout>(rolloutTables.rollouts).where({ id }).first()
      const row = await (options.forUpdate === true ? query.forUpdate() : query)
      return row === undefined ? null : rolloutOf(row)
    },

    async targets (id: string): Promise<RolloutTargetRow[]> {
      const rows = await db<RawTarget>(rolloutTables.targets).where({ rollout_id: id }).orderBy('position')
      return rows.map(targetOf)
    },

    async target (id: string, name: string): Promise<RolloutTargetRow | null> {
      const row = await db<RawTarget>(rolloutTables.targets).where({ rollout_id: id, name }).first()
      return row === undefined ? null : targetOf(row)
    },

    /** Newest first; the cursor is the last row's sequence number. */
    async page (limit: number, cursor: string | null): Promise<{ rollouts: RolloutRow[], nextCursor: string | null }> {
      const query = db<RawRollout>(rolloutTables.rollouts).orderBy('seq', 'desc').limit(limit + 1)
      const rows = await (cursor === null ? query : query.where('seq', '<', cursor))
      const more = rows.length > limit
      const kept = rows.slice(0, limit)
      return { rollouts: kept.map(rolloutOf), nextCursor: more ? String(kept[kept.length - 1]?.seq) : null }
    },

    async setStatus (id: string, status: RolloutStatus, finished: boolean): Promise<void> {
      await db(rolloutTables.rollouts).where({ id }).update({ status, finished_at: finished ? db.fn.now() : null })
    },

    /** Marks targets running under a new attempt; answers each one's attempt. */
    async start (id: string, names: readonly string[]): Promise<Array<{ name: string, attempt: number }>> {
      if (names.length === 0) return []
      return db(rolloutTables.targets).where({ rollout_id: id }).whereIn('name', names)
        .update({ status: 'running', attempt: db.raw('attempt + 1'), problem: null }, ['name', 'attempt'])
    },

    async moveTargets (id: string, from: readonly TargetStatus[], to: TargetStatus, names?: readonly string[]): Promise<number> {
      const query = db(rolloutTables.targets).where({ rollout_id: id }).whereIn('status', from)
      return (names === undefined ? query : query.whereIn('name', names)).update({ status: to })
    },

    /** Only the attempt that is still running records: a retried job's twin finds it gone. */
    async finishTarget (id: string, name: string, attempt: number, outcome: TargetOutcome): Promise<boolean> {
      const updated = await db(rolloutTables.targets).where({ rollout_id: id, name, attempt, status: 'running' }).update({
        status: outcome.status,
        before: JSON.stringify(outcome.before),
        after: JSON.stringify(outcome.after),
        steps: outcome.steps,
        duration_ms: Math.round(outcome.durationMs),
        operation_id: outcome.operationId,
        problem: outcome.problem === null ? null : JSON.stringify(outcome.problem),
      })
      return updated > 0
    },
  }
}

export type RolloutStore = ReturnType<typeof rolloutStore>
