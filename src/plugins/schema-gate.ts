import fp from 'fastify-plugin'
import type { onRequestHookHandler, RouteHandlerMethod } from 'fastify'
import { problem } from '../http/problems.js'
import { sqlStateOf } from '../migrator/pg-errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The revision whose tables and columns the route uses; below it the route answers 503 `schema-not-ready`. */
    requiresRevision?: string
  }
}

export interface SchemaGateOptions {
  /** How long the database's revisions are trusted before being read again. */
  readonly cacheMs?: number
}

interface Applied {
  readonly heads: string[]
  readonly revisions: Set<string>
}

/** A table or column the route expected is missing: the schema moved down under the cache. */
const schemaMissing = new Set(['42P01', '42703'])

/**
 * Data routes declare the revision they need; below it they answer 503 instead of a raw SQL error.
 * The revisions are read at most once per `cacheMs`, not once per request; a route that still hits
 * a missing table (another replica downgraded within that window) re-reads them and answers 503 too.
 */
export default fp<SchemaGateOptions>(async (fastify, options) => {
  const { migrator } = fastify
  const cacheMs = options.cacheMs ?? 1000
  let cached: { until: number, applied: Promise<Applied> } | null = null

  function applied (): Promise<Applied> {
    if (cached === null || cached.until <= Date.now()) {
      const reading = migrator.state().then(({ heads }) => ({
        heads,
        revisions: migrator.graph.closure(heads.filter((id) => migrator.graph.has(id))),
      }))
      const entry = { until: Date.now() + cacheMs, applied: reading }
      reading.catch(() => { if (cached === entry) cached = null })
      cached = entry
    }
    return cached.applied
  }

  async function assertApplied (required: string): Promise<void> {
    const { heads, revisions } = await applied()
    if (revisions.has(required)) return
    throw problem(503, 'schema-not-ready', 'The database schema is not ready',
      `this endpoint needs revision ${required}; the database is at ${heads.length === 0 ? 'base' : heads.join(', ')}`,
      { currentRevisions: heads, requiredRevision: required })
  }

  fastify.addHook('onRoute', (route) => {
    const required = route.config?.requiresRevision
    if (required === undefined) return
    if (!migrator.graph.has(required)) throw new Error(`${route.method} ${route.url} requires revision ${required}, which no migration defines`)
    const gate: onRequestHookHandler = async () => { await assertApplied(required) }
    route.onRequest = [...[route.onRequest ?? []].flat(), gate]
    const handler = route.handler
    route.handler = async function (request, reply) {
      try {
        return await handler.call(this, request, reply)
      } catch (error) {
        const code = sqlStateOf(error)
        if (code !== null && schemaMissing.has(code)) {
          cached = null
          await assertApplied(required)
        }
        throw error
      }
    } satisfies RouteHandlerMethod
  })
}, { name: 'schema-gate', dependencies: ['migrator'] })
