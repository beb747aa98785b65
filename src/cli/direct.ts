import { hostname, userInfo } from 'node:os'
import knexFactory from 'knex'
import { MigratorError } from '../migrator/errors.js'
import { RevisionGraph } from '../migrator/graph.js'
import { SchemaMigrator, type MigratorLogger } from '../migrator/migrator.js'
import { loadRevisions } from '../migrator/source.js'
import { verifyDatabaseState } from '../migrator/state.js'
import type { SchemaApi, StepListener } from './api.js'

export interface DirectOptions {
  readonly databaseUrl: string
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  readonly onStep: StepListener
  readonly onWarning: (message: string) => void
}

/** The engine itself against `DATABASE_URL`: what the service would do, without the service. */
export async function openDirect (options: DirectOptions): Promise<SchemaApi> {
  const graph = RevisionGraph.build(await loadRevisions())
  // One connection for the verb, one for the migration lock's session.
  const knex = knexFactory({
    client: 'pg',
    connection: options.databaseUrl,
    pool: { min: 0, max: 2 },
    acquireConnectionTimeout: 10_000,
    // A failed step reaches the user once, as the engine's error, not again through Knex's console logger.
    log: { warn: ignore, error: ignore, deprecate: ignore, debug: ignore },
  })
  const migrator = new SchemaMigrator({
    knex,
    graph,
    instance: `${hostname()}:${process.pid} (cli)`,
    lockWaitMs: options.lockWaitMs,
    lockTimeoutMs: options.lockTimeoutMs,
    logger: stepLogger(graph, options),
  })
  const actor = `cli:${userName()}`
  return {
    current: () => migrator.status(),
    heads: async () => ({ heads: graph.heads.map((id) => ({ revision: id, description: graph.get(id).description })) }),
    history: async () => ({ revisions: await migrator.history() }),
    revision: async (ref) => {
      const revision = migrator.revision(ref)
      return {
        revision: revision.revision,
        downRevisions: [...revision.downRevisions],
        description: revision.description,
        createDate: revision.createDate,
        isHead: graph.heads.includes(revision.revision),
        transactional: revision.transactional,
        checksum: revision.checksum,
        up: [...revision.up],
        down: [...revision.down],
      }
    },
    upgrade: (body) => migrator.upgrade({ ...body, actor }),
    downgrade: (body) => migrator.downgrade({ ...body, actor }),
    // Whoever holds the database's credentials may already rewrite alembic_version by hand.
    stamp: (body) => migrator.stamp({ ...body, actor, allowBackwards: true }),
    integrity: async () => {
      try {
        verifyDatabaseState(graph, await migrator.state())
        return []
      } catch (error) {
        if (error instanceof MigratorError) return [error.message]
        throw error
      }
    },
    drift: async () => {
      const { checkDrift } = await import('../catalog/drift.js')
      const { CatalogError } = await import('../catalog/errors.js')
      try {
        return { report: await checkDrift(knex, graph) }
      } catch (error) {
        if (error instanceof CatalogError) return { unavailable: error.message }
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { unavailable: `this build has no schema snapshots (${(error as Error).message})` }
        throw error
      }
    },
    close: () => knex.destroy(),
  }
}

/** The engine logs each step as it starts; that is the progress line. */
function stepLogger (graph: RevisionGraph, options: DirectOptions): MigratorLogger {
  return {
    info (object) {
      const context = object as { revision?: string, direction?: 'up' | 'down', step?: number, of?: number, durationMs?: number }
      if (context.revision === undefined || context.direction === undefined || context.step === undefined || context.of === undefined || 'durationMs' in context) return
      const revision = graph.get(context.revision)
      options.onStep({ revision: revision.revision, downRevisions: revision.downRevisions, description: revision.description, direction: context.direction, index: context.step, of: context.of })
    },
    warn (_object, message) { options.onWarning(message) },
    error () {},
  }
}

function ignore (): void {}

function userName (): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}
