import { Type, type TSchema } from '@sinclair/typebox'
import { canaryPattern } from '../fleet/rollouts/scheduler.js'
import { ProblemRef } from './common.js'
import { RevisionIdSchema, TargetSchema } from './migrations.js'

const Revisions = Type.Array(RevisionIdSchema)
const TargetName = Type.String({ minLength: 1, maxLength: 200 })

export const RolloutBodySchema = Type.Object({
  verb: Type.Optional(Type.Union([Type.Literal('upgrade'), Type.Literal('downgrade'), Type.Literal('stamp')], { default: 'upgrade', description: '`downgrade` and `stamp` need the admin scope' })),
  target: Type.Optional(TargetSchema),
  environment: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  selector: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.String({ maxLength: 200 }), { description: 'labels every selected target has' })),
  targets: Type.Optional(Type.Array(TargetName, { minItems: 1, maxItems: 10000, description: 'target names' })),
  maxParallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 4 })),
  canary: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: canaryPattern })], { default: 1, description: 'targets run alone first: a number, or a percentage such as "10%"; 0 for none' })),
  maxFailures: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  onError: Type.Optional(Type.Union([Type.Literal('stop'), Type.Literal('continue')], { default: 'stop' })),
  planId: Type.Optional(Type.String({ format: 'uuid' })),
  override: Type.Optional(Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false, description: "an admin's reason to roll out past an environment not yet promoted; kept in the audit log" })),
}, { additionalProperties: false })

const TargetStatusSchema = Type.Union(['pending', 'running', 'succeeded', 'failed', 'skipped', 'unreachable', 'cancelled'].map((status) => Type.Literal(status)))

export const RolloutTargetSchema = Type.Object({
  name: Type.String(),
  status: TargetStatusSchema,
  before: Type.Union([Revisions, Type.Null()]),
  after: Type.Union([Revisions, Type.Null()]),
  steps: Type.Union([Type.Integer(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  operationId: Type.Union([Type.String(), Type.Null()], { description: "the operation in the target's audit log" }),
  // As the target's failure was recorded: a problem as any answer would carry it, with `blockers` where a lock was in the way.
  problem: Type.Union([Type.Unsafe<Record<string, unknown>>(ProblemRef), Type.Null()]),
}, { $id: 'RolloutTarget' })

const count = Type.Integer({ minimum: 0 })

export const RolloutSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  verb: Type.Union([Type.Literal('upgrade'), Type.Literal('downgrade'), Type.Literal('stamp')]),
  target: Type.String(),
  environment: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union(['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'].map((status) => Type.Literal(status))),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  counts: Type.Object({ pending: count, running: count, succeeded: count, failed: count, skipped: count, unreachable: count, cancelled: count }),
  targets: Type.Array(Type.Ref(RolloutTargetSchema)),
}, { $id: 'Rollout' })

export const RolloutPageSchema = Type.Object({
  rollouts: Type.Array(Type.Ref(RolloutSchema)),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
}, { $id: 'RolloutPage' })

export const RolloutParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) })
export const RolloutTargetParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }), name: TargetName })
export const RolloutListQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$' })),
})

export const rolloutSchemas: TSchema[] = [RolloutTargetSchema, RolloutSchema, RolloutPageSchema]
