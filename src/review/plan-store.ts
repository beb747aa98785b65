import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { tables } from '../migrator/index.js'
import { isUndefinedTable } from '../database/pg-errors.js'
import type { PlanDraft } from './plan-builder.js'
import type { MigrationPlan, PlanApproval } from './types.js'

/**
 * Beside the audit log in the bookkeeping (so the catalog and drift leave it out): an operation
 * applied from a plan names it in its actor. Created here, on the first plan, not with the rest.
 */
const plansTable = tables.plans

/** Serialises the one-time creation of the table between replicas, as the bookkeeping's own does. */
const plansDdlLockKey = 0x61697073_03

const ddl = `CREATE TABLE IF NOT EXISTS ${plansTable} (
  id uuid NOT NULL PRIMARY KEY,
  direction varchar(16) NOT NULL CHECK (direction IN ('upgrade', 'downgrade')),
  target varchar(200) NOT NULL,
  from_revisions jsonb NOT NULL,
  plan jsonb NOT NULL,
  requested_by varchar(200) NOT NULL,
  requester_token varchar(64),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  approved_by varchar(200),
  approved_at timestamptz,
  override text
)`

interface PlanRow {
  id: string
  plan: PlanDraft
  requester_token: string | null
  created_at: Date
  approved_by: string | null
  approved_at: Date | null
  override: string | null
}

export interface StoredPlan {
  readonly plan: MigrationPlan
  /** A fingerprint of the token that asked for it, for the four-eyes rule; null without auth. */
  readonly requesterToken: string | null
}

export function createPlanStore (knex: Knex) {
  let ready = false
  const ensure = async () => {
    if (ready) return
    await knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [plansDdlLockKey])
      await trx.raw(ddl)
    })
    ready = true
  }

  return {
    async save (draft: PlanDraft, requesterToken: string | null): Promise<MigrationPlan> {
      await ensure()
      const id = randomUUID()
      const [row] = await knex(plansTable)
        .insert({ id, direction: draft.direction, target: draft.target, from_revisions: JSON.stringify(draft.from), plan: JSON.stringify(draft), requested_by: draft.requestedBy, requester_token: requesterToken })
        .returning<PlanRow[]>(['id', 'plan', 'requester_token', 'created_at', 'approved_by', 'approved_at', 'override'])
      return toPlan(row as PlanRow)
    },

    /** Read-only: a database that never had a plan has no table, and so no such plan. */
    async get (id: string): Promise<StoredPlan | null> {
      try {
        const row = await knex<PlanRow>(plansTable).where({ id }).first()
        return row === undefined ? null : { plan: toPlan(row), requesterToken: row.requester_token }
      } catch (error) {
        if (isUndefinedTable(error)) return null
        throw error
      }
    },

    /** The newest plans first, `pending` (not approved) or `approved` only when asked; none before the first plan. */
    async list (filter: { status?: 'pending' | 'approved', limit: number }): Promise<MigrationPlan[]> {
      try {
        const query = knex<PlanRow>(plansTable).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(filter.limit)
        if (filter.status === 'pending') query.whereNull('approved_at')
        if (filter.status === 'approved') query.whereNotNull('approved_at')
        return (await query).map(toPlan)
      } catch (error) {
        if (isUndefinedTable(error)) return []
        throw error
      }
    },

    /** Records the approval unless another got there first; null when it did. */
    async approve (id: string, approvedBy: string, override: string | null): Promise<MigrationPlan | null> {
      const [row] = await knex(plansTable)
        .where({ id })
        .whereNull('approved_at')
        .update({ approved_by: approvedBy, approved_at: knex.fn.now(), override })
        .returning<PlanRow[]>(['id', 'plan', 'requester_token', 'created_at', 'approved_by', 'approved_at', 'override'])
      return row === undefined ? null : toPlan(row)
    },
  }
}

export type PlanStore = ReturnType<typeof createPlanStore>

function toPlan (row: PlanRow): MigrationPlan {
  const approval: PlanApproval | null = row.approved_at === null
    ? null
    : { approvedBy: row.approved_by ?? '', approvedAt: row.approved_at.toISOString(), override: row.override }
  const { direction, target, from, to, requestedBy, steps, summary, lint } = row.plan
  return { id: row.id, direction, target, from, to, createdAt: row.created_at.toISOString(), requestedBy, steps, summary, lint, approval }
}
