import { performance } from 'node:perf_hooks'
import type { Knex } from 'knex'
import { diffSchemas } from '../catalog/diff.js'
import { SchemaSnapshotMissingError } from '../catalog/errors.js'
import { introspectSchema } from '../catalog/introspect.js'
import { applicationSchema, type SchemaDefinition } from '../catalog/schema.js'
import { readSnapshot } from '../catalog/snapshots.js'
import { createMigrator, MigratorError, type RevisionGraph, type SchemaMigrator } from '../migrator/index.js'
import { fillTables } from './fill.js'

export interface DirectionResult {
  /** Ran, and left the schema its snapshot describes. */
  readonly ok: boolean
  readonly ms: number
}

export interface RevisionResult {
  readonly revision: string
  readonly up: DirectionResult
  readonly down: DirectionResult
  readonly reup: DirectionResult
  /** What failed, naming the direction and the difference; null when the revision passed. */
  readonly problem: string | null
}

export interface StairwayOptions {
  readonly knex: Knex
  readonly graph: RevisionGraph
  readonly snapshotsDir: string
  /** The revisions to test, in the graph's order; the others are only applied on the way. */
  readonly revisions: readonly string[]
  /** Said as each revision is done, and for each table the generator could not fill. */
  readonly onRevision?: (result: RevisionResult) => void
  readonly onNote?: (note: string) => void
  /** Checked before each fill and step: an aborted run stops there. */
  readonly signal?: AbortSignal
}

const actor = 'aip-schema test'
const notRun: DirectionResult = { ok: false, ms: 0 }

type Direction = 'up' | 'down' | 'reup'

/** A revision's step failed, or left another schema than its snapshot's: the stairway stops there. */
class StepFailed extends Error {}

/**
 * pytest-alembic's stairway, with data: for each revision, from the schema of exactly its
 * ancestors, rows in every table, up (schema = its snapshot), rows, down (schema = its parent's
 * snapshot, or what it was before a merge), rows, up again (its snapshot again). Stops at the
 * first revision that fails, since the database is then in no known state.
 */
export async function runStairway (options: StairwayOptions): Promise<RevisionResult[]> {
  const { knex, graph } = options
  const migrator = createMigrator({ knex, graph, instance: actor })
  const results: RevisionResult[] = []
  let fill = 0
  // Each shortfall once: the same table falls short at every fill.
  const said = new Set<string>()
  const fillRows = async () => {
    options.signal?.throwIfAborted()
    for (const note of await fillTables(knex, fill++)) {
      if (!said.has(note)) options.onNote?.(`no rows for ${note}`)
      said.add(note)
    }
  }
  for (const revision of options.revisions) {
    options.signal?.throwIfAborted()
    await applyAncestryOf(migrator, graph, revision)
    const before = await liveSchema(knex)
    const snapshot = await snapshotOf(options.snapshotsDir, revision)
    const parents = graph.get(revision).downRevisions
    const parentSchema = parents.length > 1 ? before : await snapshotOf(options.snapshotsDir, parents[0] ?? null)
    const missing = [...snapshot === null ? [revision] : [], ...parentSchema === null ? parents : []]
    const directions: Record<Direction, DirectionResult> = { up: notRun, down: notRun, reup: notRun }
    const attempt = async (direction: Direction, run: () => Promise<unknown>, expected: (live: SchemaDefinition) => SchemaDefinition) => {
      await fillRows()
      const started = performance.now()
      try {
        await run()
      } catch (error) {
        if (!(error instanceof MigratorError)) throw error
        directions[direction] = { ok: false, ms: Math.round(performance.now() - started) }
        throw new StepFailed(`${revision} ${direction}: ${error.message}`)
      }
      const ms = Math.round(performance.now() - started)
      options.signal?.throwIfAborted()
      const live = await liveSchema(knex)
      const differences = diffSchemas(expected(live), live)
      directions[direction] = { ok: differences.length === 0, ms }
      if (differences.length > 0) {
        const against = direction !== 'down' ? 'its snapshot' : parents.length === 0 ? 'base (no tables)' : parents.length === 1 ? `the snapshot of ${parents[0] as string}` : 'the schema before it'
        throw new StepFailed(`${revision} ${direction}: the schema differs from ${against}:\n${differences.map((difference) => `  - ${difference.detail}`).join('\n')}`)
      }
      return live
    }
    let problem: string | null = null
    let failed = false
    try {
      const afterUp = await attempt('up', () => migrator.upgrade({ target: revision, actor }), (live) => snapshot ?? live)
      // Down to a parent takes away that parent's descendants: from exactly the ancestry, only this revision, a merge too.
      const downTarget = parents[0] ?? 'base'
      await attempt('down', () => migrator.downgrade({ target: downTarget, actor }), () => parentSchema ?? before)
      await attempt('reup', () => migrator.upgrade({ target: revision, actor }), () => snapshot ?? afterUp)
      if (missing.length > 0) {
        problem = `no committed snapshot of ${missing.join(', ')} in ${options.snapshotsDir}: up, down and up again ran, but the schema could not be held to it (npm run schema:snapshots writes them)`
      }
    } catch (error) {
      if (!(error instanceof StepFailed)) throw error
      problem = error.message
      failed = true
    }
    const result = { revision, ...directions, problem }
    results.push(result)
    options.onRevision?.(result)
    if (failed) break
  }
  return results
}

/** Brings the database to exactly `revision`'s ancestors: from base again when another branch is applied. */
async function applyAncestryOf (migrator: SchemaMigrator, graph: RevisionGraph, revision: string): Promise<void> {
  const ancestry = graph.ancestors(revision)
  const applied = graph.closure((await migrator.state()).heads)
  if ([...applied].some((id) => !ancestry.has(id))) {
    await migrator.downgrade({ target: 'base', actor })
    applied.clear()
  }
  for (const parent of graph.get(revision).downRevisions) {
    if (!applied.has(parent)) await migrator.upgrade({ target: parent, actor })
  }
}

async function liveSchema (knex: Knex): Promise<SchemaDefinition> {
  return applicationSchema(await introspectSchema(knex))
}

/** The committed snapshot; base is the empty schema when base.json is absent. Null when the revision has none. */
async function snapshotOf (dir: string, revision: string | null): Promise<SchemaDefinition | null> {
  try {
    return await readSnapshot(dir, revision)
  } catch (error) {
    if (error instanceof SchemaSnapshotMissingError) return null
    if (revision === null && (error as NodeJS.ErrnoException).code === 'ENOENT') return { tables: [] }
    throw error
  }
}
