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
