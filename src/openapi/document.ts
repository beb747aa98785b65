import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'

/** Nothing listens here: the app starts without its database answering, and the document needs no query. */
const unreachableDatabaseUrl = 'postgres://openapi@127.0.0.1:1/openapi'

/**
 * The OpenAPI document the routes generate, with the configuration's defaults (a route's
 * summary may name a limit), built without a database so `npm run openapi` runs anywhere.
 */
export async function generateOpenApiDocument (): Promise<Record<string, unknown>> {
  const app = await buildApp({ databaseUrl: unreachableDatabaseUrl, config: loadConfig({ AUTH_DISABLED: 'true' }) })
  try {
    await app.ready()
    return app.swagger() as unknown as Record<string, unknown>
  } finally {
    await app.close()
  }
}

/** Keys sorted at every depth and a trailing newline: the committed file changes only when the contract does. */
export function renderOpenApiDocument (document: unknown): string {
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`
}

function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]))
}
