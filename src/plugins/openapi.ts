import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import type { RouteOptions } from 'fastify'
import { problems } from '../schemas/common.js'

/** Registered before any route: the document is generated from their TypeBox schemas. */
export default fp(async (fastify) => {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'aip-schema',
        version: '0.1.0',
        description: "Owns the AI Playground database schema: Alembic's semantics on Knex's migrator, and the data endpoints.",
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a token of API_TOKENS; scopes read < write < migrate < admin' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => typeof json.$id === 'string' ? json.$id : `def-${index}` },
    transform: ({ schema, url }) => ({ schema: withDefaultedQueryOptional(schema), url }),
    transformObject: (documentObject) => 'openapiObject' in documentObject
      ? withOptionalBodies(documentObject.openapiObject as OpenApiPaths) as typeof documentObject.openapiObject
      : documentObject.swaggerObject,
  })
  fastify.addHook('onRoute', documentBodyProblems)
}, { name: 'openapi' })

interface QuerySchema { required?: string[], properties?: Record<string, { default?: unknown }> }

/** The validator fills in a query field's default (`limit`), so a client need not send it, whatever the TypeScript type says. */
function withDefaultedQueryOptional<T extends { querystring?: unknown }> (schema: T): T {
  const query = schema?.querystring as QuerySchema | undefined
  if (query?.required === undefined || query.properties === undefined) return schema
  const { properties } = query
  return { ...schema, querystring: { ...query, required: query.required.filter((name) => properties[name]?.default === undefined) } }
}

/** Fastify itself answers these on any route that takes a body: too large, or a media type it does not parse. */
function documentBodyProblems (route: RouteOptions): void {
  const { schema } = route
  if (schema?.body === undefined || schema.response === undefined) return
  schema.response = { ...problems(413, 415), ...schema.response as object }
}

type OpenApiPaths = { paths?: Record<string, Record<string, { 'x-body-optional'?: boolean, requestBody?: { required?: boolean } }>> }

/** `@fastify/swagger` marks every body required; a route that fills in a missing one says `x-body-optional`. */
function withOptionalBodies<T extends OpenApiPaths> (document: T): T {
  for (const operation of Object.values(document.paths ?? {}).flatMap((item) => Object.values(item))) {
    if (operation['x-body-optional'] !== true) continue
    delete operation['x-body-optional']
    if (operation.requestBody !== undefined) operation.requestBody.required = false
  }
  return document
}
