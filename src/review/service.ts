import type { Knex } from 'knex'
import { type ExpectedPlan, PlanStaleError, readDatabaseState, type RevisionGraph } from '../migrator/index.js'
import { ApprovalRequiredError, PlanAlreadyApprovedError, PlanHasErrorsError, PlanMismatchError, PlanNotApprovedError, PlanNotFoundError, SelfApprovalError } from './errors.js'
import { buildPlan } from './plan-builder.js'
import { createPlanStore } from './plan-store.js'
import type { MigrationPlan, ReviewSettings } from './types.js'

export interface Requester {
  /** Who, for the record: a scope, `cli:<user>`. */
  readonly actor: string
  /** Tells one token from another without keeping it; null where there are no tokens. */
  readonly token: string | null
}

export interface MigrateAsked {
  readonly direction: 'upgrade' | 'downgrade'
  readonly planId?: string
  readonly target?: string
  readonly dryRun: boolean
}

/** What the engine is asked to do once the gate let a request through. */
export interface Cleared {
  readonly target: string
  readonly expected?: ExpectedPlan
  readonly planId: string | null
}

/** Plans, their approval, and the gate upgrades and downgrades pass: no HTTP, used by the routes and the CLI. */
export function createReviewService (knex: Knex, graph: RevisionGraph, settings: ReviewSettings) {
  const store = createPlanStore(knex)

  const get = async (id: string) => {
    const stored = await store.get(id)
    if (stored === null) throw new PlanNotFoundError(id)
    return stored
  }

  /**
   * An approved plan for this direction and target, as the engine is to run it, without looking
   * at any database: a rollout checks each target's state against it under that target's lock.
   */
  const approved = async (asked: MigrateAsked & { readonly planId: string }): Promise<Cleared & { readonly from: string[] }> => {
    const { plan } = await get(asked.planId)
    if (plan.direction !== asked.direction) throw new PlanMismatchError(plan.id, `is a ${plan.direction} plan, not a ${asked.direction}`)
    if (asked.target !== undefined && asked.target !== plan.target) throw new PlanMismatchError(plan.id, `was made for target '${plan.target}', not '${asked.target}'`)
    if (plan.approval === null) throw new PlanNotApprovedError(plan.id)
    return {
      target: plan.target,
      planId: plan.id,
      from: plan.from,
      expected: { from: plan.from, steps: plan.steps.map((step) => ({ revision: step.revision, direction: step.direction })) },
    }
  }

  return {
    settings,

    async plan (request: { target: string, direction: 'upgrade' | 'downgrade' }, requester: Requester): Promise<MigrationPlan> {
      const draft = await buildPlan(knex, graph, { ...request, requestedBy: requester.actor }, settings.largeTableRows, settings.archiveMaxBytes)
      return store.save(draft, requester.token)
    },

    async get (id: string): Promise<MigrationPlan> {
      return (await get(id)).plan
    },

    list (filter: { status?: 'pending' | 'approved', limit: number }): Promise<MigrationPlan[]> {
      return store.list(filter)
    },

    /**
     * `fourEyes` when several admin tokens exist: then the token that asked for the plan cannot
     * approve it. Unacknowledged errors need an override, which stays on the plan.
     */
    async approve (id: string, approver: Requester, options: { override?: string, fourEyes: boolean }): Promise<MigrationPlan> {
      const { plan, requesterToken } = await get(id)
      if (plan.approval !== null) throw new PlanAlreadyApprovedError(id, plan.approval.approvedBy, plan.approval.approvedAt)
      if (options.fourEyes && requesterToken !== null && requesterToken === approver.token) throw new SelfApprovalError(id)
      if (plan.summary.errors > 0 && (options.override ?? '').trim() === '') throw new PlanHasErrorsError(id, plan.summary.errors)
      const approved = await store.approve(id, approver.actor, plan.summary.errors > 0 ? options.override ?? null : null)
      if (approved === null) {
        const again = (await get(id)).plan.approval
        throw new PlanAlreadyApprovedError(id, again?.approvedBy ?? 'another', again?.approvedAt ?? 'the same time')
      }
      return approved
    },

    approved,

    /**
     * Lets an upgrade or downgrade through. With a plan: only an approved one, for this direction
     * and target, from the state it was made against (checked again by the engine under the lock).
     * Without one: refused when approval is required, unless it is a dry run, which changes nothing.
     */
    async clear (asked: MigrateAsked): Promise<Cleared> {
      if (asked.planId === undefined) {
        if (settings.approvalRequired && !asked.dryRun) throw new ApprovalRequiredError(asked.direction)
        return { target: asked.target ?? 'head', planId: null }
      }
      const { from, ...cleared } = await approved({ ...asked, planId: asked.planId })
      const { heads } = await readDatabaseState(knex)
      if (heads.length !== from.length || heads.some((id) => !from.includes(id))) throw new PlanStaleError(from, heads)
      return cleared
    },
  }
}

export type ReviewService = ReturnType<typeof createReviewService>
