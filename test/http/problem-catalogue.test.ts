import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { documentPath } from '../../scripts/openapi.mjs'
import { problemTypes } from '../../src/http/problem-types.js'
import { problemOf } from '../../src/http/problems.js'

const src = fileURLToPath(new URL('../../src/', import.meta.url))
const catalogue = fileURLToPath(new URL('../../src/http/problem-types.ts', import.meta.url))

t.test('the OpenAPI document lists exactly the catalogue as Problem.type', async (t) => {
  const document = JSON.parse(await readFile(documentPath, 'utf8')) as { components: { schemas: { Problem: { properties: { type: { enum: string[] } } } } } }
  t.same([...document.components.schemas.Problem.properties.type.enum].sort(), Object.keys(problemTypes).sort())
})

t.test('a problem takes its title and status from its type', async (t) => {
  t.same(problemOf('plan-stale', 'the plan was made against a', { expectedFrom: ['a'] }), {
    type: 'plan-stale', title: 'The plan no longer matches the database', status: 409, detail: 'the plan was made against a', expectedFrom: ['a'],
  })
  for (const [type, { status, title }] of Object.entries(problemTypes)) {
    t.ok(status >= 400 && status < 600 && title.length > 0, `${type}: an error status and a title`)
  }
})

t.test('no problem type, title or status is written on the spot outside the catalogue', async (t) => {
  const files = (await readdir(src, { recursive: true })).filter((file) => file.endsWith('.ts')).map((file) => join(src, file))
  const onTheSpot = /\bstatus: [45]\d\d\b|problem\(\d{3},|type: '[a-z-]+', title:/
  const found: string[] = []
  for (const file of files.filter((file) => file !== catalogue)) {
    const lines = (await readFile(file, 'utf8')).split('\n')
    lines.forEach((line, index) => { if (onTheSpot.test(line)) found.push(`${relative(src, file)}:${index + 1}: ${line.trim()}`) })
  }
  t.ok(files.length > 100, `${files.length} files read`)
  t.same(found, [])
})

t.test('docs/http-errors.md tells every type, with its status', async (t) => {
  const page = await readFile(fileURLToPath(new URL('../../docs/http-errors.md', import.meta.url)), 'utf8')
  const rows = new Map([...page.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map(([, type, status]) => [type, Number(status)]))
  t.same(Object.fromEntries(rows), Object.fromEntries(Object.entries(problemTypes).map(([type, { status }]) => [type, status])))
})
