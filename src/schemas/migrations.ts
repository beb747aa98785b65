import { Type } from '@sinclair/typebox'

export const RevisionIdSchema = Type.String({ description: 'a revision id', examples: ['c3d4e5f6g7h8'] })
const Revisions = Type.Array(RevisionIdSchema)

export const TargetSchema = Type.String({
  minLength: 1,
  maxLength: 200,
  description: "Alembic's grammar: `head`, `heads`, `base`, an id or unique prefix, `+N`, `-N`, `<rev>+N`, `<rev>-N`",
})

export const SchemaStatusSchema = Type.Object({
  current: Revisions,
  heads: Revisions,
  upToDate: Type.Boolean(),
  pending: Revisions,
}, { $id: 'SchemaStatus' })

export const HeadsSchema = Type.Object({
  heads: Type.Array(Type.Object({ revision: RevisionIdSchema, description: Type.String() })),
}, { $id: 'Heads' })

export const HistoryEntrySchema = Type.Object({
  revision: RevisionIdSchema,
  downRevisions: Revisions,
  description: Type.String(),
  createDate: Type.String({ format: 'date-time' }),
  isHead: Type.Boolean(),
  applied: Type.Boolean(),
  appliedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { $id: 'HistoryEntry' })

export const HistorySchema = Type.Object({
  revisions: Type.Array(Type.Ref(HistoryEntrySchema)),
}, { $id: 'History' })

export const RevisionDetailSchema = Type.Object({
  revision: RevisionIdSchema,
  downRevisions: Revisions,
  description: Type.String(),
  createDate: Type.String({ format: 'date-time' }),
  isHead: Type.Boolean(),
  transactional: Type.Boolean(),
  checksum: Type.String(),
  up: Type.Array(Type.String()),
  down: Type.Array(Type.String()),
}, { $id: 'RevisionDetail' })

const PlanIdSchema = Type.String({ format: 'uuid', description: 'an approved plan (POST /migrations/plan): runs exactly its steps, only from the state it was made against; required with MIGRATION_APPROVAL=required' })

export const UpgradeBodySchema = Type.Object({
  target: Type.Optional(TargetSchema),
  dryRun: Type.Optional(Type.Boolean()),
  async: Type.Optional(Type.Boolean()),
  planId: Type.Optional(PlanIdSchema),
}, { additionalProperties: false })

export const DowngradeBodySchema = Type.Object({
  target: TargetSchema,
  dryRun: Type.Optional(Type.Boolean()),
  async: Type.Optional(Type.Boolean()),
  planId: Type.Optional(PlanIdSchema),
}, { additionalProperties: false })

export const StampBodySchema = Type.Object({
  target: TargetSchema,
  purge: Type.Optional(Type.Boolean()),
}, { additionalProperties: false })

export const StepSchema = Type.Object({
  revision: RevisionIdSchema,
  direction: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  description: Type.String(),
  durationMs: Type.Number(),
  sql: Type.Array(Type.String()),
}, { $id: 'MigrationStep' })

export const MigrationResultSchema = Type.Object({
  from: Revisions,
  to: Revisions,
  dryRun: Type.Boolean(),
  steps: Type.Array(Type.Ref(StepSchema)),
}, { $id: 'MigrationResult' })

export const OperationSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.Union([Type.Literal('upgrade'), Type.Literal('downgrade'), Type.Literal('stamp')]),
  target: Type.String(),
  dryRun: Type.Boolean(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
  from: Type.Union([Revisions, Type.Null()]),
  to: Type.Union([Revisions, Type.Null()]),
  steps: Type.Array(Type.Ref(StepSchema)),
  error: Type.Union([Type.Object({
    kind: Type.String(),
    message: Type.String(),
    revision: Type.Optional(Type.String()),
    code: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }), Type.Null()]),
  actor: Type.String(),
  instance: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { $id: 'MigrationOperation' })

export const OperationListSchema = Type.Object({
  operations: Type.Array(Type.Ref(OperationSchema)),
}, { $id: 'MigrationOperationList' })

export const migrationSchemas = [SchemaStatusSchema, HeadsSchema, HistoryEntrySchema, HistorySchema, RevisionDetailSchema, StepSchema, MigrationResultSchema, OperationSchema, OperationListSchema]
