import { Type } from '@sinclair/typebox'
import { InterruptedSchema, RevisionIdSchema } from './migrations.js'

const Labels = Type.Record(Type.String(), Type.String(), { description: 'free-form labels (tenant, region...)' })

export const TargetSchema = Type.Object({
  name: Type.String(),
  environment: Type.String(),
  labels: Labels,
  schema: Type.Union([Type.String(), Type.Null()], { description: 'tenant-per-schema: the schema the revisions and the bookkeeping live in; null: the database default' }),
  url: Type.String({ description: 'the connection URL, password shown as ***' }),
  source: Type.Union([Type.Literal('self'), Type.Literal('file'), Type.Literal('discovered')]),
}, { $id: 'Target' })

export const DiscoveryGroupStateSchema = Type.Object({
  group: Type.String(),
  targets: Type.Integer({ description: 'targets the last successful read found' }),
  refreshedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'when the catalog last answered; null: never' }),
  error: Type.Union([Type.String(), Type.Null()], { description: 'why the last read failed; the last list read is kept' }),
}, { $id: 'DiscoveryGroupState' })

export const TargetListSchema = Type.Object({
  targets: Type.Array(Type.Ref(TargetSchema)),
  discovery: Type.Array(Type.Ref(DiscoveryGroupStateSchema), { description: 'an addition to the contract: each discovery group\'s last read' }),
}, { $id: 'TargetList' })

export const FleetTargetSchema = Type.Object({
  name: Type.String(),
  environment: Type.String(),
  labels: Labels,
  reachable: Type.Boolean(),
  current: Type.Array(RevisionIdSchema),
  upToDate: Type.Boolean(),
  pending: Type.Integer({ minimum: 0, description: 'revisions an upgrade to the heads would apply' }),
  ahead: Type.Array(RevisionIdSchema),
  breaking: Type.Array(RevisionIdSchema),
  interrupted: Type.Union([Type.Ref(InterruptedSchema), Type.Null()]),
  inSync: Type.Union([Type.Boolean(), Type.Null()], { description: 'drift is not computed for the fleet (a full catalog read per target): null; GET /schema/drift answers for one database' }),
  lastOperation: Type.Union([Type.Object({
    id: Type.String({ format: 'uuid' }),
    kind: Type.String(),
    status: Type.String(),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }), Type.Null()]),
  checkedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { $id: 'FleetTarget' })

export const FleetSchema = Type.Object({
  summary: Type.Object({
    total: Type.Integer(),
    upToDate: Type.Integer(),
    behind: Type.Integer(),
    ahead: Type.Integer(),
    unreachable: Type.Integer(),
    drifted: Type.Integer(),
  }, { description: 'over every target the filters match, not only this page' }),
  targets: Type.Array(Type.Ref(FleetTargetSchema)),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
}, { $id: 'Fleet' })

export const FleetQuerySchema = Type.Object({
  environment: Type.Optional(Type.String({ minLength: 1 })),
  label: Type.Optional(Type.Array(Type.String({ pattern: '^[^:]+:.*$', description: 'k:v' }), { description: 'repeatable; every one must hold' })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
}, { additionalProperties: false })

export const fleetSchemas = [TargetSchema, DiscoveryGroupStateSchema, TargetListSchema, FleetTargetSchema, FleetSchema]
