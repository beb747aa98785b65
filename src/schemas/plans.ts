import { Type } from '@sinclair/typebox'
import { RevisionIdSchema, TargetSchema } from './migrations.js'

const Revisions = Type.Array(RevisionIdSchema)

export const LockLevelSchema = Type.Union(
  ['ACCESS EXCLUSIVE', 'EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'SHARE', 'SHARE UPDATE EXCLUSIVE', 'ROW EXCLUSIVE'].map((level) => Type.Literal(level)),
  { description: 'the table lock the statement takes' }
)

export const FindingSchema = Type.Object({
  rule: Type.String({ description: "Squawk's rule name where Squawk found it; `opaque` for SQL no linter can read; `destructive-change` and `narrowing-type-change` for data a step would lose" }),
  severity: Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('info')]),
  message: Type.String(),
  statement: Type.Integer({ minimum: 0, description: "index into the step's `sql`" }),
  table: Type.Optional(Type.String()),
  estimatedRows: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: '`pg_class.reltuples` at plan time; null when the table was never analyzed' })),
  sizeBytes: Type.Optional(Type.Number({ description: '`pg_total_relation_size` at plan time' })),
  lock: Type.Optional(LockLevelSchema),
  acknowledged: Type.Optional(Type.String({ description: "the revision's reason for judging it safe; not counted in `summary`" })),
}, { $id: 'PlanFinding' })

export const PlanStepSchema = Type.Object({
  revision: RevisionIdSchema,
  direction: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  description: Type.String(),
  transactional: Type.Boolean(),
  sql: Type.Array(Type.String()),
  findings: Type.Array(Type.Ref(FindingSchema)),
  archives: Type.Array(Type.Object({
    table: Type.String(),
    columns: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'beside the primary key; null for whole rows' }),
    estimatedRows: Type.Integer({ minimum: 0 }),
    estimatedBytes: Type.Integer({ minimum: 0 }),
  }), { description: 'what the step copies to schema aip_schema_archive before it destroys it, estimated from the catalog' }),
}, { $id: 'PlanStep' })

export const PlanSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  direction: Type.Union([Type.Literal('upgrade'), Type.Literal('downgrade')]),
  target: Type.String(),
  from: Type.Array(RevisionIdSchema, { description: 'the heads the database was at: the plan applies only from there' }),
  to: Revisions,
  createdAt: Type.String({ format: 'date-time' }),
  requestedBy: Type.String(),
  steps: Type.Array(Type.Ref(PlanStepSchema)),
  summary: Type.Object({
    errors: Type.Integer({ description: 'unacknowledged error findings' }),
    warnings: Type.Integer({ description: 'unacknowledged warning findings' }),
    acknowledged: Type.Integer(),
  }),
  lint: Type.Object({
    linter: Type.String(),
    largeTableRows: Type.Integer({ description: 'LINT_LARGE_TABLE_ROWS: from this many rows a blocking statement is an error' }),
    excludedRules: Type.Array(Type.Object({ rule: Type.String(), reason: Type.String() }), { description: 'rules not checked, because the engine already does what they ask' }),
  }),
  approval: Type.Union([Type.Object({
    approvedBy: Type.String(),
    approvedAt: Type.String({ format: 'date-time' }),
    override: Type.Union([Type.String(), Type.Null()], { description: 'why the plan was approved despite its errors' }),
  }), Type.Null()]),
}, { $id: 'MigrationPlan' })

export const PlanListSchema = Type.Object({
  plans: Type.Array(Type.Ref(PlanSchema)),
}, { $id: 'MigrationPlanList' })

export const PlanListQuerySchema = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('approved')], { description: '`pending`: not approved yet (the plans awaiting an admin); `approved`; every plan without it' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
}, { additionalProperties: false })

export const PlanBodySchema = Type.Object({
  target: Type.Optional(TargetSchema),
  direction: Type.Optional(Type.Union([Type.Literal('upgrade'), Type.Literal('downgrade')], { default: 'upgrade' })),
}, { additionalProperties: false })

export const ApproveBodySchema = Type.Object({
  override: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'why a plan with unacknowledged errors may run anyway; kept on the plan' })),
}, { additionalProperties: false })

export const PlanParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const planSchemas = [FindingSchema, PlanStepSchema, PlanSchema, PlanListSchema]
