import { Type } from '@sinclair/typebox'

export const ArchiveSchema = Type.Object({
  id: Type.Integer(),
  operationId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'the operation whose step archived it; null for a dry run' }),
  revision: Type.Union([Type.String(), Type.Null()]),
  direction: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Null()]),
  kind: Type.Union(['drop-table', 'truncate', 'drop-column', 'type-change', 'update', 'delete'].map((kind) => Type.Literal(kind)), { description: 'what the step did to the data' }),
  table: Type.String(),
  columns: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'the destroyed columns, beside the primary key; null for whole rows' }),
  rows: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
  createdAt: Type.String({ format: 'date-time' }),
  restoredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expiresAt: Type.String({ format: 'date-time' }),
}, { $id: 'MigrationArchive', description: 'what a step destroyed, kept in schema aip_schema_archive until expiresAt' })

export const ArchiveListSchema = Type.Object({
  archives: Type.Array(Type.Ref(ArchiveSchema)),
}, { $id: 'MigrationArchiveList' })

export const ArchiveParamsSchema = Type.Object({
  id: Type.Integer({ minimum: 1, description: 'the archive' }),
})

export const RestoreArchiveBodySchema = Type.Object({
  into: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$', description: 'a new table, in the current schema, to restore into instead of the live table' })),
}, { additionalProperties: false })

export const RestoredArchiveSchema = Type.Object({
  restoredRows: Type.Integer({ minimum: 0 }),
}, { $id: 'RestoredArchive' })

export const archiveSchemas = [ArchiveSchema, ArchiveListSchema, RestoredArchiveSchema]
