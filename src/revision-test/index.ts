import pg from 'pg'
import { createScratchDatabase } from '../authoring/scratch-database.js'
import { defaultSnapshotsDir } from '../catalog/snapshots.js'
import { defaultMigrationsDir, loadRevisions, MigratorError, RevisionGraph } from '../migrator/index.js'
import { RevisionTestError } from './errors.js'
import { unstableChecksums } from './graph-checks.js'
import { runStairway, type RevisionResult } from './stairway.js'

export { RevisionTestError, type RevisionTestErrorKind } from './errors.js'
export type { DirectionResult, RevisionResult } from './stairway.js'

export interface RevisionTestOptions {
  /** A database URL on the server where the scratch database is made (the database itself is not touched). */
  readonly serverUrl: string
  readonly migrationsDir?: string
  readonly snapshotsDir?: string
  /** Test this revision (id or unique prefix) and those after it. */
  readonly from?: string | null
  /** Test this revision and those before it. */
  readonly to?: string | null
  /** Stops the run between two statements and drops the scratch database; the run rejects with `interrupted`. */
  readonly signal?: AbortSignal
  /** Names the scratch database (`aip_schema_<purpose>_<random>`), so runs side by side on one server can tell theirs apart. */
  readonly scratchPurpose?: string
  readonly onRevision?: (result: RevisionResult) => void
  readonly onNote?: (note: string) => void
}

/** What `aip-schema test --json` prints (CONTRACT.md, "Batched backfills and revision tests"). */
export interface RevisionTestReport {
  readonly ok: boolean
  readonly heads: string[]
  readonly revisions: RevisionResult[]
}

/**
 * Tests the revisions of a migrations directory as a CI job would before they reach a database
 * that matters: the graph (one head, unique ids, checksums that do not change between two
 * loads), then the stairway with data on a scratch database that is dropped however the run ends.
 */
export async function testRevisions (options: RevisionTestOptions): Promise<RevisionTestReport> {
  const dir = options.migrationsDir ?? defaultMigrationsDir
  const loaded = await loadRevisions(dir)
  // Duplicate ids, unknown parents and cycles: the graph names every one (InvalidRevisionGraphError).
  const graph = RevisionGraph.build(loaded)
  const selected = selectedRevisions(graph, options.from ?? null, options.to ?? null)
  const unstable = new Map((await unstableChecksums(dir, loaded)).map((revision) => [revision.revision, revision]))
  const withChecksum = (result: RevisionResult): RevisionResult => {
    const changing = unstable.get(result.revision)
    if (changing === undefined || result.problem !== null) return result
    return { ...result, problem: `${result.revision}: its checksum changes from one load of ${changing.file} to the next (SQL built at load time); a database it was applied to would refuse it` }
  }
  const scratch = await createScratchDatabase(options.serverUrl, options.scratchPurpose ?? 'revision_test')
  // The lock's session and a running statement would hold Knex's pool open; cut them, and the stairway stops at its next step.
  const onAbort = () => { disconnect(options.serverUrl, scratch.url).catch(() => undefined) }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  let revisions: RevisionResult[]
  try {
    revisions = await runStairway({
      knex: scratch.knex,
      graph,
      snapshotsDir: options.snapshotsDir ?? defaultSnapshotsDir,
      revisions: selected,
      ...options.signal === undefined ? {} : { signal: options.signal },
      onRevision: (result) => options.onRevision?.(withChecksum(result)),
      ...options.onNote === undefined ? {} : { onNote: options.onNote },
    })
  } catch (error) {
    if (options.signal?.aborted === true) throw new RevisionTestError('interrupted', 'interrupted: the scratch database was dropped')
    throw error
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    await scratch.drop()
  }
  if (options.signal?.aborted === true) throw new RevisionTestError('interrupted', 'interrupted: the scratch database was dropped')
  revisions = revisions.map(withChecksum)
  const heads = [...graph.heads]
  return {
    ok: heads.length === 1 && revisions.length === selected.length && revisions.every((result) => result.problem === null),
    heads,
    revisions,
  }
}

/** The revisions from `from` (and its descendants) to `to` (and its ancestors), in the graph's order. */
function selectedRevisions (graph: RevisionGraph, from: string | null, to: string | null): string[] {
  const resolve = (ref: string, option: string) => {
    try {
      return graph.resolveRevision(ref)
    } catch (error) {
      if (error instanceof MigratorError) throw new RevisionTestError('bad-bounds', `--${option}: ${error.message}`)
      throw error
    }
  }
  const below = to === null ? null : graph.closure([resolve(to, 'to')])
  const start = from === null ? null : resolve(from, 'from')
  const above = start === null ? null : new Set([start, ...graph.descendants(start)])
  const selected = graph.all().map(({ revision }) => revision)
    .filter((revision) => (below === null || below.has(revision)) && (above === null || above.has(revision)))
  if (selected.length === 0) throw new RevisionTestError('bad-bounds', `no revision is both at or after ${from ?? 'base'} and at or before ${to ?? 'head'}`)
  return selected
}

/** Ends every session on the scratch database, from a session on the server's own database. */
async function disconnect (serverUrl: string, scratchUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [new URL(scratchUrl).pathname.slice(1)])
  } finally {
    await client.end()
  }
}
