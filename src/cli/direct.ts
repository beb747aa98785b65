import { hostname, userInfo } from 'node:os'
import { loadRevisions, MigratorError, type MigratorLogger, namesTheHeads, parsedTarget, RevisionGraph, verifyDatabaseState } from '../migrator/index.js'
import type { SchemaApi, StepListener } from './api.js'
import type { Engine } from './engine.js'
import type { ReviewService } from '../review/service.js'
import type { ReviewSettings } from '../review/types.js'

export interface DirectOptions {
  readonly databaseUrl: string
  readonly review: ReviewSettings
  readonly lockWaitMs: number
  readonly lockTimeoutMs: number
  readonly lockRetry: { readonly retries: number, readonly baseMs: number }
  readonly groupMs: number
  readonly onStep: StepListener
  readonly onWarning: (message: string) => void
}

/** The engine itself against `DATABASE_URL`: what the service would do, without the service. */
export async function openDirect (options: DirectOptions): Promise<SchemaApi> {
  const graph = RevisionGraph.build(await loadRevisions())
  const instance = `${hostname()}:${process.pid} (cli)`
  const actor = `cli:${userName()}`
  let opened: Promise<Engine> | null = null
  const engine = () => (opened ??= import('./engine.js').then(({ openEngine }) => openEngine(graph, { ...options, instance, logger: stepLogger(graph, options) })))
  const migrator = async () => (await engine()).migrator
  let reviewing: Promise<ReviewService> | null = null
  const review = () => (reviewing ??= Promise.all([engine(), import('../review/service.js')]).then(([{ knex }, { createReviewService }]) => createReviewService(knex, graph, options.review)))
  const requester = { actor, token: null }
  return {
    current: async () => (await migrator()).status(),
    heads: async () => ({ heads: graph.heads.map((id) => ({ revision: id, description: graph.get(id).description })) }),
    history: async () => (await migrator()).history(),
    revision: async (ref) => {
      const revision = graph.get(graph.resolveRevision(ref))
      return {
        revision: revision.revision,
        downRevisions: [...revision.downRevisions],
        description: revision.description,
        createDate: revision.createDate,
        isHead: graph.heads.includes(revision.revision),
        transactional: revision.transactional,
        breaking: revision.breaking,
        checksum: revision.checksum,
        up: [...revision.up],
        down: [...revision.down],
      }
    },
    upgrade: async (body) => {
      if (body.planId !== undefined || options.review.approvalRequired) {
        const cleared = await (await review()).clear({ direction: 'upgrade', target: body.target, dryRun: body.dryRun, planId: body.planId })
        return (await migrator()).upgrade({ target: cleared.target, dryRun: body.dryRun, expected: cleared.expected, actor: cleared.planId === null ? actor : `${actor} (plan ${cleared.planId})` })
      }
      const target = body.target ?? 'head'
      // A fresh process would otherwise take the engine's full path (bookkeeping DDL, lock,
      // reconcile) to learn there is nothing to do.
      if (!body.dryRun && namesTheHeads(graph, parsedTarget(target))) {
        const { recordNoOpUpgradeWithoutKnex } = await import('./no-op-upgrade.js')
        const checksums = Object.fromEntries(graph.all().map((revision) => [revision.revision, revision.checksum]))
        const { recorded, heads } = await recordNoOpUpgradeWithoutKnex(options.databaseUrl, { target, actor, instance, heads: graph.heads, checksums })
        if (recorded) return { from: heads, to: heads, dryRun: false, steps: [], ahead: [] }
      }
      return (await migrator()).upgrade({ target, dryRun: body.dryRun, actor })
    },
    downgrade: async (body) => {
      const cleared = await (await review()).clear({ direction: 'downgrade', target: body.target, dryRun: body.dryRun })
      return (await migrator()).downgrade({ target: cleared.target, dryRun: body.dryRun, actor })
    },
    plan: async (body) => (await review()).plan(body, requester),
    approve: async (planId, body) => (await review()).approve(planId, requester, { override: body.override, fourEyes: false }),
    // Whoever holds the database's credentials may already rewrite alembic_version by hand.
    stamp: async (body) => (await migrator()).stamp({ ...body, actor, allowBackwards: true }),
    integrity: async () => {
      try {
        verifyDatabaseState(graph, await (await migrator()).state())
        return []
      } catch (error) {
        if (error instanceof MigratorError) return [error.message]
        throw error
      }
    },
    drift: async () => {
      const [{ checkDrift }, { CatalogError }] = await Promise.all([import('../catalog/drift.js'), import('../catalog/errors.js')])
      try {
        return { report: await checkDrift((await engine()).knex, graph) }
      } catch (error) {
        if (error instanceof CatalogError) return { unavailable: error.message }
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { unavailable: `this build has no schema snapshots (${(error as Error).message})` }
        throw error
      }
    },
    close: async () => {
      if (opened !== null) await (await opened).knex.destroy()
    },
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

function userName (): string {
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}
