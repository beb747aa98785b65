import type { Knex } from 'knex'
import { DatabaseAheadError, readDatabaseState, type RevisionGraph, verifyDatabaseState } from '../migrator/index.js'
import { diffSchemas, type SchemaDifference } from './diff.js'
import { DriftNeedsOneRevisionError } from './errors.js'
import { introspectSchema } from './introspect.js'
import { applicationSchema } from './schema.js'
import { generateMigration, statementsOf } from './sql-generator.js'
import { defaultSnapshotsDir, readSnapshot } from './snapshots.js'

export interface DriftReport {
  /** The revision the database is at; null at base. */
  readonly revision: string | null
  readonly inSync: boolean
  readonly differences: SchemaDifference[]
  /**
   * What a revision recording the drift would run (`revision --autogenerate`'s generator): `up`
   * turns the revision's schema into the live one, `down` turns the live one back.
   */
  readonly sql: { readonly up: string[], readonly down: string[] }
}

/**
 * The live schema against the committed snapshot of the database's revision, the engine's
 * bookkeeping left out. Read-only: no table created, no lock taken. Usable without Fastify.
 */
export async function checkDrift (knex: Knex, graph: RevisionGraph, options: DriftOptions = {}): Promise<DriftReport> {
  const { revision, expected, desired, differences } = await compareWithSnapshot(knex, graph, options)
  return { revision, inSync: differences.length === 0, differences, sql: statementsOf(generateMigration(expected, desired)) }
}

/** Whether the live schema is its revision's snapshot: the comparison alone, no SQL written for it (the fleet view reads it per target). */
export async function schemaInSync (knex: Knex, graph: RevisionGraph, options: DriftOptions = {}): Promise<boolean> {
  return (await compareWithSnapshot(knex, graph, options)).differences.length === 0
}

interface DriftOptions { readonly snapshotsDir?: string | undefined }

async function compareWithSnapshot (knex: Knex, graph: RevisionGraph, options: DriftOptions) {
  const state = await readDatabaseState(knex)
  // A changed checksum is no reason to refuse: drift is how one finds out what it changed.
  const analysis = verifyDatabaseState(graph, state, 'unknown-only')
  // This code has no snapshot of a newer release's revisions.
  if (analysis.ahead.length > 0) throw new DatabaseAheadError(analysis.ahead)
  const heads = analysis.knownHeads
  if (heads.length > 1) throw new DriftNeedsOneRevisionError(heads)
  const revision = heads[0] ?? null
  const [expected, live] = await Promise.all([readSnapshot(options.snapshotsDir ?? defaultSnapshotsDir, revision), introspectSchema(knex)])
  const desired = applicationSchema(live)
  return { revision, expected, desired, differences: diffSchemas(expected, desired) }
}
