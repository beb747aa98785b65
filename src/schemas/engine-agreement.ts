import type { Static, TSchema } from '@sinclair/typebox'
import type { HistoryEntry, HistoryPage, MigrationResult, Operation, SchemaStatus } from '../migrator/index.js'
import type { HistoryEntrySchema, HistorySchema, MigrationResultSchema, OperationSchema, SchemaStatusSchema } from './migrations.js'

/*
 * The engine's result types and the schemas the routes answer them with, tied at compile time: a
 * field added, dropped or retyped on one side and not the other fails `npm run typecheck`. The
 * CLI's types are `Static<>` of the same schemas (src/cli/api.ts), so all three agree.
 */

/** `readonly` is the engine's promise not to mutate; the wire has no such notion. */
type Wire<T> = T extends ReadonlyArray<infer Item>
  ? Array<Wire<Item>>
  : T extends object ? { -readonly [Key in keyof T]: Wire<T[Key]> } : T

type Same<Left, Right> = (<T>() => T extends Left ? 1 : 2) extends (<T>() => T extends Right ? 1 : 2) ? true : false

/** Whether the engine type and the schema's static type are the same on the wire; `Assert` fails to compile on false. */
type Agrees<Engine, Schema extends TSchema> = Same<Wire<Engine>, Wire<Static<Schema>>>

type Assert<Check extends true> = Check

export type EngineAgreement = [
  Assert<Agrees<SchemaStatus, typeof SchemaStatusSchema>>,
  Assert<Agrees<HistoryEntry, typeof HistoryEntrySchema>>,
  Assert<Agrees<HistoryPage, typeof HistorySchema>>,
  Assert<Agrees<MigrationResult, typeof MigrationResultSchema>>,
  Assert<Agrees<Operation, typeof OperationSchema>>
]
