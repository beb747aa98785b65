import { readFile } from 'node:fs/promises'
import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { generateOpenApiDocument, renderOpenApiDocument } from '../../src/openapi/document.js'
import { clientTypesPath, documentPath, renderClientTypes } from '../../scripts/openapi.mjs'

const committed = await readFile(documentPath, 'utf8')

t.test('openapi/openapi.json is what the routes generate', async (t) => {
  const generated = renderOpenApiDocument(await generateOpenApiDocument())
  t.equal(committed, generated, 'openapi/openapi.json matches the routes (when it does not: run npm run openapi)')
})

interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  security?: Array<Record<string, string[]>>
  'x-required-scope'?: string
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>
}

t.test('every operation is named by a verb, tagged, summarised, secured by a scope, its errors problem+json', async (t) => {
  const document = JSON.parse(committed) as { paths: Record<string, Record<string, Operation>> }
  const verbs = /^(get|list|create|update|delete|put|upgrade|downgrade|stamp|record|pause|resume|cancel|retry|skip|restore)[A-Z]/
  const publicPaths = /^\/(health\/|metrics$)/
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const name = `${method.toUpperCase()} ${path}`
      t.match(operation.operationId, verbs, `${name}: operationId is a verb`)
      t.ok(operation.tags?.length === 1 && (operation.summary ?? '') !== '', `${name}: one tag and a summary`)
      if (publicPaths.test(path)) {
        t.same(operation.security, [], `${name}: public, and says so`)
        t.equal(operation['x-required-scope'], undefined, `${name}: no scope`)
      } else {
        t.same(operation.security, [{ bearer: [] }], `${name}: a bearer token`)
        t.match(operation['x-required-scope'], /^(read|write|migrate|admin)$/, `${name}: its scope`)
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        const types = Object.keys(response.content ?? {})
        const readiness = operation.operationId === 'getReadiness'
        if ((status === 'default' || Number(status) >= 400) && !readiness) {
          t.same(types, ['application/problem+json'], `${name} ${status}: problem+json`)
          t.equal(response.content?.['application/problem+json']?.schema?.$ref, '#/components/schemas/Problem', `${name} ${status}: the Problem component`)
        }
        const json = response.content?.['application/json']?.schema
        if (json !== undefined && operation.operationId !== 'getLiveness') {
          t.match(json.$ref, /^#\/components\/schemas\//, `${name} ${status}: a named component, not an inlined copy`)
        }
      }
    }
  }
})

t.test('the committed document is valid OpenAPI 3.1', async (t) => {
  const validator = new Validator()
  const result = await validator.validate(JSON.parse(committed))
  t.same(result.errors ?? [], [], 'no validation errors')
  t.equal(result.valid, true)
  t.equal(validator.version, '3.1')
})

t.test('test/client/schema.d.ts is what openapi-typescript derives from the committed document', async (t) => {
  const types = await readFile(clientTypesPath, 'utf8')
  t.equal(types, await renderClientTypes(committed), 'test/client/schema.d.ts matches the document (when it does not: run npm run openapi)')
})
