import { Type } from '@sinclair/typebox'
import { revisionIdPattern } from '../migrator/index.js'

export const RevisionIdSchema = Type.String({ description: 'a revision id', examples: ['c3d4e5f6g7h8'] })
const Revisions = Type.Array(RevisionIdSchema)

/** The engine's grammar for a target (src/migrator/targets.ts), for clients to check before they send. */
const targetPattern = `^(?!heads[+-])(?:head|heads|base|${revisionIdPattern}|(?:${revisionIdPattern})?[+-][1-9][0-9]{0,5})$`

export const TargetSchema = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: targetPattern,
  description: "Alembic's grammar: `head`, `heads`, `base`, an id or unique prefix (up to 64 letters, digits or underscores), `+N`, `-N`, `<rev>+N`, `<rev>-N` with N from 1 to 999999; `heads` takes no step, as it may be several revisions",
})

export const InterruptedSchema = Type.Object({
  revision: RevisionIdSchema,
  direction: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  operation: Type.String({ format: 'uuid', description: 'the operation that was cut off' }),
  startedAt: Type.String({ format: 'date-time' }),
}, { $id: 'InterruptedRevision', description: 'a non-transactional revision cut off part-way; the next upgrade runs it again' })

/** What the engine and the probes both say of a database a newer release moved on. */
export const releaseFields = {
  ahead: Type.Array(RevisionIdSchema, { description: 'applied revisions this code does not have (a newer release\'s)' }),
  breaking: Type.Array(RevisionIdSchema, { description: 'the `ahead` revisions this code cannot serve beside' }),
  interrupted: Type.Union([Type.Ref(InterruptedSchema), Type.Null()]),
}

export const SchemaStatusSchema = Type.Object({
  current: Revisions,
  heads: Revisions,
  upToDate: Type.Boolean(),
  pending: Revisions,
  ...releaseFields,
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
  breaking: Type.Boolean({ description: 'the contract phase of expand/contract: replicas whose code lacks it turn unready once it is applied' }),
  applied: Type.Boolean(),
  appliedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { $id: 'HistoryEntry' })

export const HistorySchema = Type.Object({
  revisions: Type.Array(Type.Ref(HistoryEntrySchema)),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last' }),
}, { $id: 'History' })

export const HistoryQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'revisions per page; without it, every revision' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
}, { additionalProperties: false })

export const RevisionDetailSchema = Type.Object({
  revision: RevisionIdSchema,
  downRevisions: Revisions,
  description: Type.String(),
  createDate: Type.String({ format: 'date-time' }),
  isHead: Type.Boolean(),
  transactional: Type.Boolean(),
  breaking: Type.Boolean(),
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
  tries: Type.Integer({ minimum: 1, description: 'more than 1 when lock_timeout made it try again' }),
  resumed: Type.Boolean({ description: 'a revision cut off earlier, run again from its start' }),
  sql: Type.Array(Type.String()),
  rowsDone: Type.Optional(Type.Integer({ minimum: 0, description: 'a revision with a backfill: the rows it updated' })),
}, { $id: 'MigrationStep' })

export const OperationStepSchema = Type.Object({
  revision: RevisionIdSchema,
  direction: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  description: Type.String(),
  durationMs: Type.Number(),
  tries: Type.Optional(Type.Integer({ minimum: 1 })),
  resumed: Type.Optional(Type.Boolean()),
  sql: Type.Optional(Type.Array(Type.String(), { description: 'only with ?include=sql' })),
  rowsDone: Type.Optional(Type.Integer({ minimum: 0, description: 'a backfill: rows updated so far' })),
  rowsTotal: Type.Optional(Type.Integer({ minimum: 0, description: 'a backfill: an estimate, the rows its predicate selected when this run started plus those done before' })),
  rowsPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
  etaMs: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'null while unknown' })),
  inProgress: Type.Optional(Type.Boolean({ description: 'a backfill under way (or paused): not recorded yet' })),
}, { $id: 'MigrationOperationStep' })

export const BlockerSchema = Type.Object({
  pid: Type.Integer(),
  applicationName: Type.String(),
  state: Type.Union([Type.String(), Type.Null()]),
  transactionAgeMs: Type.Union([Type.Integer(), Type.Null()]),
  query: Type.String({ description: 'the start of its current or last query' }),
}, { $id: 'Blocker', description: 'a session that held what a migration waited for when its lock_timeout ran out' })

export const MigrationResultSchema = Type.Object({
  from: Revisions,
  to: Revisions,
  dryRun: Type.Boolean(),
  steps: Type.Array(Type.Ref(StepSchema)),
  ahead: Type.Array(RevisionIdSchema, { description: 'applied revisions this code does not have, left as they are' }),
}, { $id: 'MigrationResult' })

export const OperationSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.Union([Type.Literal('upgrade'), Type.Literal('downgrade'), Type.Literal('stamp')]),
  target: Type.String(),
  dryRun: Type.Boolean(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('paused'), Type.Literal('succeeded'), Type.Literal('failed')]),
  from: Type.Union([Revisions, Type.Null()]),
  to: Type.Union([Revisions, Type.Null()]),
  steps: Type.Array(Type.Ref(OperationStepSchema)),
  stepsDone: Type.Integer({ minimum: 0, description: 'steps completed so far' }),
  stepsTotal: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'the steps of its plan; null until the plan is made' }),
  error: Type.Union([Type.Object({
    kind: Type.String(),
    message: Type.String(),
    revision: Type.Optional(Type.String()),
    code: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    tries: Type.Optional(Type.Integer()),
    blockers: Type.Optional(Type.Array(Type.Ref(BlockerSchema))),
    lastDone: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: '`connection-lost`: the last revision the operation got done, null for none' })),
  }), Type.Null()]),
  actor: Type.String(),
  instance: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  backup: Type.Optional(Type.Object({
    path: Type.Union([Type.String(), Type.Null()], { description: 'the pg_dump -Fc file; null when only BACKUP_HOOK ran' }),
    bytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
    hook: Type.Optional(Type.Object({ command: Type.String(), output: Type.String() }, { description: 'BACKUP_HOOK: the command run before the first step and what it printed' })),
  }, { description: 'what was taken before the first step (BACKUP_BEFORE_UPGRADE, BACKUP_HOOK)' })),
}, { $id: 'MigrationOperation' })

export const OperationReadQuerySchema = Type.Object({
  include: Type.Optional(Type.Literal('sql', { description: "`sql`: each step's statements too" })),
}, { additionalProperties: false })

export const OperationListSchema = Type.Object({
  operations: Type.Array(Type.Ref(OperationSchema)),
}, { $id: 'MigrationOperationList' })

export const migrationSchemas = [InterruptedSchema, OperationStepSchema, BlockerSchema, SchemaStatusSchema, HeadsSchema, HistoryEntrySchema, HistorySchema, RevisionDetailSchema, StepSchema, MigrationResultSchema, OperationSchema, OperationListSchema]
