import { Type } from '@sinclair/typebox'
import { RevisionIdSchema } from './migrations.js'

const Names = Type.Array(Type.String())
const nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])
const ReferentialAction = Type.Union(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'].map((action) => Type.Literal(action)))

export const ColumnSchema = Type.Object({
  name: Type.String(),
  type: Type.String({ description: 'as `format_type` prints it', examples: ['character varying(255)'] }),
  nullable: Type.Boolean(),
  default: nullable(Type.String({ description: 'the default expression as PostgreSQL deparses it' })),
}, { $id: 'TableColumn' })

export const IndexSchema = Type.Object({
  name: Type.String(),
  columns: Type.Array(Type.String(), { description: 'key columns (or key expressions), in key order' }),
  unique: Type.Boolean(),
  primary: Type.Boolean({ description: "backs the table's primary key" }),
  method: Type.String({ examples: ['btree'] }),
  predicate: nullable(Type.String({ description: 'the WHERE of a partial index' })),
  valid: Type.Boolean({ description: 'false for what a failed CREATE INDEX CONCURRENTLY leaves behind' }),
  definition: Type.String({ description: '`pg_get_indexdef`' }),
}, { $id: 'TableIndex' })

export const ForeignKeySchema = Type.Object({
  name: Type.String(),
  columns: Names,
  target: Type.Object({ table: Type.String(), columns: Names }),
  onDelete: ReferentialAction,
  onUpdate: ReferentialAction,
  valid: Type.Boolean({ description: 'false while a constraint added NOT VALID awaits VALIDATE' }),
}, { $id: 'ForeignKey' })

export const CheckSchema = Type.Object({
  name: Type.String(),
  definition: Type.String({ description: '`pg_get_constraintdef`' }),
  valid: Type.Boolean(),
}, { $id: 'CheckConstraint' })

export const TableSchema = Type.Object({
  name: Type.String(),
  bookkeeping: Type.Boolean({ description: "one of the migration engine's own tables (alembic_version, knex_migrations, …), left out of drift" }),
  columns: Type.Array(Type.Ref(ColumnSchema), { description: 'in table order' }),
  indexes: Type.Array(Type.Ref(IndexSchema)),
  foreignKeys: Type.Array(Type.Ref(ForeignKeySchema)),
  checks: Type.Array(Type.Ref(CheckSchema)),
}, { $id: 'Table' })

export const DatabaseSchemaSchema = Type.Object({
  schema: Type.String({ description: "the PostgreSQL schema read: the connection's current_schema()" }),
  tables: Type.Array(Type.Ref(TableSchema), { description: 'by name' }),
}, { $id: 'DatabaseSchema' })

export const DifferenceSchema = Type.Object({
  kind: Type.Union([Type.Literal('missing'), Type.Literal('extra'), Type.Literal('changed')], {
    description: '`missing`: expected, not in the database; `extra`: in the database, not expected',
  }),
  object: Type.Union(['table', 'column', 'type', 'nullability', 'default', 'index', 'foreignKey', 'check'].map((object) => Type.Literal(object))),
  table: Type.String(),
  name: Type.String({ description: "the column, index or constraint; the table's own name for a table" }),
  expected: Type.Unknown({ description: 'the expected definition or value; null for an extra object' }),
  actual: Type.Unknown({ description: 'what the database has; null for a missing object' }),
  detail: Type.String(),
}, { $id: 'SchemaDifference' })

export const DriftSchema = Type.Object({
  revision: Type.Union([RevisionIdSchema, Type.Null()], { description: 'the revision the database is at; null at base' }),
  inSync: Type.Boolean(),
  differences: Type.Array(Type.Ref(DifferenceSchema)),
  sql: Type.Object({
    up: Type.Array(Type.String(), { description: "turns the revision's schema into the live one, online-safe, as `revision --autogenerate` writes it" }),
    down: Type.Array(Type.String(), { description: "turns the live schema back into the revision's" }),
  }, { description: 'the statements a revision recording the differences would run; what no statement can express is left out' }),
}, { $id: 'SchemaDrift' })

export const schemaSchemas = [ColumnSchema, IndexSchema, ForeignKeySchema, CheckSchema, TableSchema, DatabaseSchemaSchema, DifferenceSchema, DriftSchema]
