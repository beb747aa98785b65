import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { parsedTarget, type ExpectedPlan, type MigrationResult, type RevisionGraph } from '../../migrator/index.js'
import { ApprovalRequiredError } from '../../review/errors.js'
import type { ReviewService } from '../../review/service.js'
import { NoTargetsError, NotPromotedError, RolloutNotFoundError, RolloutTargetNotFoundError, RolloutTransitionError } from './errors.js'
import type { JobSender, TargetJob } from './queue.js'
import { canaryCount, finishedStatuses, nextStep, type OnError, type RolloutStatus } from './scheduler.js'
import { rolloutStore, type RolloutRow, type RolloutTargetRow, type RolloutVerb, type TargetOutcome } from './store.js'
import type { RolloutTarget, TargetSource } from './target-source.js'

export interface RolloutRequest {
  readonly verb: RolloutVerb
  readonly target: string
  readonly environment?: string
  readonly selector?: Readonly<Record<string, string>>
  readonly targets?: readonly string[]
  readonly maxParallel: number
  readonly canary: number | string
  readonly maxFailures: number
  readonly onError: OnError
  readonly planId?: string
  readonly override?: { readonly reason: string }
}

export interface RolloutRequester {
  readonly actor: string
  /** Whether the caller holds the admin scope: only an admin's override passes promotion. */
  readonly admin: boolean
}

export interface RolloutView extends RolloutRow {
  readonly counts: Record<'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'unreachable' | 'cancelled', number>
  readonly targets: RolloutTargetRow[]
}

export interface RolloutLogger {
  info (fields: Record<string, unknown>, message: string): void
  warn (fields: Record<string, unknown>, message: string): void
  error (fields: Record<string, unknown>, message: string): void
}

export interface RolloutMetrics {
  finished (seconds: number): void
  targetFailed (problemType: string): void
}

export interface RolloutServiceOptions {
  /** The service's own database, where the rollout rows live. */
  readonly knex: Knex
  readonly queue: JobSender
  /** Resolves once the rollout tables and the queue are there; every call waits on it. */
  readonly ready: () => Promise<void>
  readonly targets: TargetSource
  readonly graph: RevisionGraph
  readonly review: Pick<ReviewService, 'approved' | 'settings'>
  /** The one mapping of errors to problems (src/http): a target's failure is recorded as a client would get it. */
  readonly problemOf: (error: unknown) => { readonly type: string, readonly [key: string]: unknown }
  /** Errors that mean the target could not be reached, not that its migration failed. */
  readonly isUnreachable: (error: unknown) => boolean
  readonly logger: RolloutLogger
  readonly metrics: RolloutMetrics
  /** How many earlier-environment targets promotion reads at once. */
  readonly readConcurrency?: number
}

const emptyCounts = (): RolloutView['counts'] => ({ pending: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, unreachable: 0, cancelled: 0 })

/** Rollouts of one verb to many targets: rows in the service's database, the work on the queue. */
export function createRolloutService (options: RolloutServiceOptions) {
  const { knex, queue, targets: source, graph, logger } = options
  const store = rolloutStore(knex)

  async function view (id: string): Promise<RolloutView> {
    const rollout = await store.rollout(id)
    if (rollout === null) throw new RolloutNotFoundError(id)
    const rows = await store.targets(id)
    const counts = emptyCounts()
    for (const row of rows) counts[row.status] += 1
    return { ...rollout, counts, targets: rows }
  }

  function selected (request: RolloutRequest): RolloutTarget[] {
    const names = request.targets === undefined ? null : new Set(request.targets)
    return source.list().filter((target) =>
      (request.environment === undefined || target.environment === request.environment) &&
      Object.entries(request.selector ?? {}).every(([key, value]) => target.labels[key] === value) &&
      (names === null || names.has(target.name)))
  }

  /** The revisions a target stands at once the rollout reached it. */
  function destination (verb: RolloutVerb, target: string): string[] {
    const { expression } = parsedTarget(target)
    if (expression.kind === 'head' || expression.kind === 'heads') return [...graph.heads]
    if (expression.kind === 'base') return []
    return [graph.resolveRevision(target)]
  }

  async function headsOf (target: RolloutTarget): Promise<string[] | null> {
    try {
      const lease = await source.open(target)
      try {
        return (await lease.migrator.state()).heads
      } finally {
        await lease.close()
      }
    } catch {
      return null
    }
  }

  /**
   * The first environment before the rollout's with targets not at its revision, and those
   * targets (an unreachable one counts as behind: nothing says it is there).
   */
  async function behind (chosen: readonly RolloutTarget[], at: readonly string[]): Promise<{ environment: string, behind: string[] } | null> {
    const order = source.environments
    const reached = Math.max(...chosen.map((target) => order.indexOf(target.environment)))
    const limit = options.readConcurrency ?? 8
    for (const environment of order.slice(0, Math.max(0, reached))) {
      const candidates = source.list().filter((target) => target.environment === environment)
      const late: string[] = []
      for (let index = 0; index < candidates.length; index += limit) {
        const batch = candidates.slice(index, index + limit)
        const heads = await Promise.all(batch.map(headsOf))
        batch.forEach((target, position) => {
          const have = heads[position]
          if (have === null || have === undefined || have.length !== at.length || have.some((id) => !at.includes(id))) late.push(target.name)
        })
      }
      if (late.length > 0) return { environment, behind: late }
    }
    return null
  }

  /** Carries out the scheduler's answer under the rollout's row lock: one replica at a time decides. */
  async function tick (id: string): Promise<void> {
    await knex.transaction(async (trx) => {
      const locked = rolloutStore(trx)
      const rollout = await locked.rollout(id, { forUpdate: true })
      if (rollout === null) return
      const rows = await locked.targets(id)
      const decision = nextStep(rollout, rows)
      const started = await locked.start(id, decision.start)
      for (const { name, attempt } of started) await queue.enqueue(trx, { rolloutId: id, target: name, attempt })
      if (decision.status === rollout.status) return
      const finished = finishedStatuses.includes(decision.status)
      await locked.setStatus(id, decision.status, finished)
      if (finished) {
        options.metrics.finished((Date.now() - Date.parse(rollout.createdAt)) / 1000)
        logger.info({ rollout: id, status: decision.status }, 'rollout finished')
      }
    })
  }

  async function transition (id: string, allowed: readonly RolloutStatus[], to: RolloutStatus, action: string, finished = false): Promise<void> {
    await knex.transaction(async (trx) => {
      const locked = rolloutStore(trx)
      const rollout = await locked.rollout(id, { forUpdate: true })
      if (rollout === null) throw new RolloutNotFoundError(id)
      if (!allowed.includes(rollout.status)) throw new RolloutTransitionError(`rollout ${id}`, rollout.status, action)
      if (to === 'cancelled') await locked.moveTargets(id, ['pending'], 'cancelled')
      await locked.setStatus(id, to, finished)
    })
  }

  /** Names the rollout, the attempt, the plan and any promotion override in each target's audit log. */
  function actorOf (rollout: RolloutRow, job: TargetJob): string {
    const plan = rollout.planId === null ? '' : `, plan ${rollout.planId}`
    const override = rollout.overrideReason === null ? '' : `, promotion override: ${rollout.overrideReason}`
    return `${rollout.actor} (rollout ${rollout.id} #${job.attempt}${plan}${override})`
  }

  async function expectedOf (rollout: RolloutRow): Promise<ExpectedPlan | undefined> {
    if (rollout.planId === null || rollout.verb === 'stamp') return undefined
    return (await options.review.approved({ direction: rollout.verb, planId: rollout.planId, target: rollout.target, dryRun: false })).expected
  }

  async function operate (target: RolloutTarget, rollout: RolloutRow, job: TargetJob): Promise<TargetOutcome> {
    const started = performance.now()
    const outcome = (status: TargetOutcome['status'], fields: Partial<TargetOutcome>): TargetOutcome =>
      ({ status, before: null, after: null, steps: 0, operationId: null, problem: null, ...fields, durationMs: performance.now() - started })
    let lease
    try {
      lease = await source.open(target)
    } catch (error) {
      return outcome('unreachable', { problem: options.problemOf(error) })
    }
    const { migrator } = lease
    const actor = actorOf(rollout, job)
    let before: string[] | null = null
    try {
      before = (await migrator.state()).heads
      const expected = await expectedOf(rollout)
      const request = { target: rollout.target, actor, ...expected === undefined ? {} : { expected } }
      const result: MigrationResult = rollout.verb === 'upgrade'
        ? await migrator.upgrade(request)
        : rollout.verb === 'downgrade'
          ? await migrator.downgrade(request)
          : await migrator.stamp({ target: rollout.target, actor, allowBackwards: true })
      const operation = (await migrator.operations(20)).find((entry) => entry.actor === actor)
      return outcome('succeeded', { before: result.from, after: result.to, steps: result.steps.length, operationId: operation?.id ?? null })
    } catch (error) {
      const after = await migrator.state().then((state) => state.heads, () => null)
      const operation = await migrator.operations(20).then((entries) => entries.find((entry) => entry.actor === actor), () => undefined)
      const status = before === null && options.isUnreachable(error) ? 'unreachable' : 'failed'
      return outcome(status, { before, after, operationId: operation?.id ?? null, problem: options.problemOf(error) })
    } finally {
      await lease.close()
    }
  }

  return {
    async create (request: RolloutRequest, requester: RolloutRequester): Promise<RolloutView> {
      await options.ready()
      const chosen = selected(request)
      if (chosen.length === 0) throw new NoTargetsError()
      if (request.verb !== 'stamp') {
        if (request.planId !== undefined) await options.review.approved({ direction: request.verb, planId: request.planId, target: request.target, dryRun: false })
        else if (options.review.settings.approvalRequired) throw new ApprovalRequiredError(request.verb)
      }
      const late = await behind(chosen, destination(request.verb, request.target))
      const override = requester.admin && late !== null && (request.override?.reason ?? '').trim() !== '' ? request.override?.reason ?? null : null
      if (late !== null && override === null) throw new NotPromotedError(late.environment, late.behind)
      const id = randomUUID()
      const canaries = canaryCount(request.canary, chosen.length)
      await store.insert(id, {
        verb: request.verb,
        target: request.target,
        environment: request.environment ?? null,
        actor: requester.actor,
        planId: request.planId ?? null,
        maxParallel: request.maxParallel,
        maxFailures: request.maxFailures,
        onError: request.onError,
        overrideReason: override,
        targets: chosen.map((target, index) => ({ name: target.name, canary: index < canaries })),
      })
      if (override !== null) logger.warn({ rollout: id, actor: requester.actor, environment: late?.environment, behind: late?.behind.length, reason: override }, 'promotion overridden')
      logger.info({ rollout: id, verb: request.verb, target: request.target, targets: chosen.length }, 'rollout created')
      await tick(id)
      return view(id)
    },

    async get (id: string): Promise<RolloutView> {
      await options.ready()
      return view(id)
    },

    async list (limit: number, cursor: string | null): Promise<{ rollouts: RolloutView[], nextCursor: string | null }> {
      await options.ready()
      const page = await store.page(limit, cursor)
      return { rollouts: await Promise.all(page.rollouts.map(async (rollout) => view(rollout.id))), nextCursor: page.nextCursor }
    },

    async pause (id: string): Promise<RolloutView> {
      await options.ready()
      await transition(id, ['queued', 'running'], 'paused', 'pause')
      return view(id)
    },

    async resume (id: string): Promise<RolloutView> {
      await options.ready()
      await transition(id, ['paused'], 'running', 'resume')
      await tick(id)
      return view(id)
    },

    /** Stops scheduling at once; running targets finish (or roll back) as any migration does. */
    async cancel (id: string): Promise<RolloutView> {
      await options.ready()
      await transition(id, ['queued', 'running', 'paused'], 'cancelled', 'be cancelled', true)
      logger.info({ rollout: id }, 'rollout cancelled')
      return view(id)
    },

    /** The failed and unreachable targets go back to pending, and the rollout runs again. */
    async retry (id: string): Promise<RolloutView> {
      await options.ready()
      await knex.transaction(async (trx) => {
        const locked = rolloutStore(trx)
        const rollout = await locked.rollout(id, { forUpdate: true })
        if (rollout === null) throw new RolloutNotFoundError(id)
        if (rollout.status !== 'failed') throw new RolloutTransitionError(`rollout ${id}`, rollout.status, 'retry: only a failed rollout retries')
        await locked.moveTargets(id, ['failed', 'unreachable'], 'pending')
        await locked.setStatus(id, 'running', false)
      })
      await tick(id)
      return view(id)
    },

    async skip (id: string, name: string): Promise<RolloutView> {
      await options.ready()
      await knex.transaction(async (trx) => {
        const locked = rolloutStore(trx)
        const rollout = await locked.rollout(id, { forUpdate: true })
        if (rollout === null) throw new RolloutNotFoundError(id)
        const target = await locked.target(id, name)
        if (target === null) throw new RolloutTargetNotFoundError(id, name)
        if (!['pending', 'failed', 'unreachable'].includes(target.status)) throw new RolloutTransitionError(`target ${name}`, target.status, 'be skipped')
        await locked.moveTargets(id, [target.status], 'skipped', [name])
      })
      await tick(id)
      return view(id)
    },

    /** One target's job, on whichever replica the queue gave it to. */
    async runTarget (job: TargetJob): Promise<void> {
      const rollout = await store.rollout(job.rolloutId)
      const row = await store.target(job.rolloutId, job.target)
      // A twin of a job already recorded (the queue retried it after its replica died): nothing to do.
      if (rollout === null || row === null || row.status !== 'running' || row.attempt !== job.attempt) return
      const target = source.get(job.target)
      const outcome = target === undefined
        ? { status: 'unreachable' as const, before: null, after: null, steps: 0, durationMs: 0, operationId: null, problem: options.problemOf(new RolloutTargetNotFoundError(rollout.id, job.target)) }
        : await operate(target, rollout, job)
      const recorded = await store.finishTarget(job.rolloutId, job.target, job.attempt, outcome)
      if (target !== undefined) source.changed(target)
      if (recorded) {
        const fields = { rollout: rollout.id, target: job.target, status: outcome.status, steps: outcome.steps, durationMs: Math.round(outcome.durationMs) }
        if (outcome.problem === null) logger.info(fields, 'rollout target done')
        else {
          options.metrics.targetFailed(String(outcome.problem.type))
          logger.warn({ ...fields, problem: outcome.problem.type, detail: outcome.problem.detail }, 'rollout target failed')
        }
      }
      await tick(job.rolloutId)
    },
  }
}

export type RolloutService = ReturnType<typeof createRolloutService>
