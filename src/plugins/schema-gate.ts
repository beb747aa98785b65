import fp from 'fastify-plugin'
import type { onRequestHookHandler, RouteHandlerMethod } from 'fastify'
import { problem } from '../http/problems.js'
import { sqlStateOf } from '../database/pg-errors.js'
import type { DatabaseState } from '../migrator/index.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The revision whose tables and columns the route uses; below it the route answers 503 `schema-not-ready`. */
    requiresRevision?: string
  }
}

/** A table or column the route expected is missing: the schema moved down under the cache. */
const schemaMissing = new Set(['42P01', '42703'])

/**
 * Data routes declare the revision they need; below it they answer 503 instead of a raw SQL error.
 * The revisions come from the cached schema state (kept fresh by NOTIFY), not a query per request;
 * a route that still hits a missing table re-reads the state and answers 503 too.
 */
export default fp(async (fastify) => {
  const { migrator, schemaState } = fastify
  /** Per revision routes need, the heads the last warning about it named: one warning per state, not per request. */
  const warned = new Map<string, string>()

  function assertApplied (required: string, state: DatabaseState): void {
    const { heads } = state
    // A newer release's revisions stand on this code's: what they stand on counts as applied.
    if (migrator.viewOf(state).analysis.applied.has(required)) {
      warned.delete(required)
      return
    }
    if (warned.get(required) !== heads.join(',')) {
      warned.set(required, heads.join(','))
      fastify.log.warn({ currentRevisions: heads, requiredRevision: required },
        `routes that need revision ${required} answer 503 schema-not-ready until the schema is upgraded: the database is at ${heads.length === 0 ? 'base' : heads.join(', ')}`)
    }
    throw problem('schema-not-ready', `this endpoint needs revision ${required}; the database is at ${heads.length === 0 ? 'base' : heads.join(', ')}`,
      { currentRevisions: heads, requiredRevision: required })
  }

  fastify.addHook('onRoute', (route) => {
    const required = route.config?.requiresRevision
    if (required === undefined) return
    if (!migrator.graph.has(required)) throw new Error(`${route.method} ${route.url} requires revision ${required}, which no migration defines`)
    const gate: onRequestHookHandler = async () => { assertApplied(required, await schemaState.state()) }
    route.onRequest = [...[route.onRequest ?? []].flat(), gate]
    const handler = route.handler
    route.handler = async function (request, reply) {
      try {
        return await handler.call(this, request, reply)
      } catch (error) {
        const code = sqlStateOf(error)
        if (code !== null && schemaMissing.has(code)) assertApplied(required, await schemaState.refresh())
        throw error
      }
    } satisfies RouteHandlerMethod
  })
}, { name: 'schema-gate', dependencies: ['migrator', 'schema-state'] })
