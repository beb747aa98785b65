import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import type { RouteOptions } from 'fastify'
import { maxDepth } from '../http/validation.js'
import { problems } from '../schemas/common.js'

/** Registered before any route: the document is generated from their TypeBox schemas. */
export default fp(async (fastify) => {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'aip-schema',
        version: '0.1.0',
        description: "Owns the AI Playground database schema: Alembic's semantics on Knex's migrator, and the data endpoints.\n\n" +
          `No string a request carries, in its path, query or body, keys included, may contain U+0000 (PostgreSQL cannot store it), and a JSON body nests at most ${maxDepth} levels: either is a 400 \`validation-failed\` naming the field. ` +
          'Errors are RFC 9457 problem details; `Problem.type` lists every type the service answers.',
        license: { name: 'MIT', identifier: 'MIT' },
        contact: { name: 'aip-schema maintainers' },
      },
      // Relative: the service that serves this document at /openapi.json, wherever it is deployed.
      servers: [{ url: '/', description: 'the service serving this document' }],
      tags: [
        { name: 'health', description: 'Probes and metrics; no token' },
        { name: 'migrations', description: "The revisions and Alembic's verbs, under the cluster-wide migration lock" },
        { name: 'auth', description: 'What the presented token may do' },
        { name: 'replicas', description: 'The replicas of the service, their releases and readiness' },
        { name: 'fleet', description: 'The targets (databases and schemas) the service governs, and where each one is' },
        { name: 'schema', description: 'The live schema and its drift from what the revisions produce' },
        { name: 'users', description: 'Who owns datasets and experiments' },
        { name: 'datasets', description: 'What experiments and preprocessing run on' },
        { name: 'experiments', description: 'What model runs hang from' },
        { name: 'model-runs', description: 'Trainings, with a status that only moves forward' },
        { name: 'preprocessing-steps', description: "A dataset's steps, in order, with their fitted transformers" },
        { name: 'preprocessing-history', description: 'What preprocessing did to a dataset, and how it ended' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a token of API_TOKENS; scopes read < write < migrate < admin' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => typeof json.$id === 'string' ? json.$id : `def-${index}` },
    transform: ({ schema, url }) => ({ schema: withAccess(withDefaultedQueryOptional(schema)), url }),
    transformObject: (documentObject) => 'openapiObject' in documentObject
      ? withOptionalBodies(documentObject.openapiObject as OpenApiPaths) as typeof documentObject.openapiObject
      : documentObject.swaggerObject,
  })
  fastify.addHook('onRoute', documentBodyProblems)
  fastify.addHook('onRoute', documentParserProblems)
}, { name: 'openapi' })

interface RouteDocs { security?: Array<Record<string, string[]>>, description?: string }

/**
 * A bearer token carries no OAuth scopes, so linters read a scope named in `security` as
 * undefined: the requirement names the scheme only and `x-required-scope` names the scope. A route
 * without one says `security: []`, open on purpose. The description says the same for people.
 */
function withAccess<T> (schema: T): T {
  if (schema === undefined || schema === null) return schema
  const docs = schema as RouteDocs
  const scope = docs.security?.[0]?.bearer?.[0]
  const access = scope === undefined ? 'No token needed.' : `Needs a bearer token with the \`${scope}\` scope or one that implies it.`
  return {
    ...schema,
    security: scope === undefined ? [] : [{ bearer: [] }],
    ...(scope === undefined ? {} : { 'x-required-scope': scope }),
    description: docs.description === undefined ? access : `${docs.description} ${access}`,
  }
}

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

/** Node's HTTP parser answers these for any route, before it runs: a malformed request, a URL or headers past its limit. */
function documentParserProblems (route: RouteOptions): void {
  const { schema } = route
  if (schema?.response === undefined) return
  schema.response = { ...problems(400, 431), ...schema.response as object }
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
