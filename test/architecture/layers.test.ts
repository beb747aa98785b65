import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { IllegalTransitionError, InvalidCursorError, ParentNotFoundError } from '../../src/data/errors.js'
import { problemFromDataError } from '../../src/http/problems.js'

const src = fileURLToPath(new URL('../../src/', import.meta.url))

/** Every relative or package import of the layer's modules, with the file that makes it. */
async function importsOf (layer: string): Promise<Array<{ file: string, specifier: string }>> {
  const dir = join(src, layer)
  const files = (await readdir(dir, { recursive: true })).filter((file) => file.endsWith('.ts'))
  const found = await Promise.all(files.map(async (file) => {
    const text = await readFile(join(dir, file), 'utf8')
    return [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((match) => ({ file: relative(src, join(dir, file)), specifier: match[1] as string }))
  }))
  return found.flat()
}

const knowsHttp = (specifier: string) => /(?:^|\/)(?:http|plugins|routes)\//.test(specifier) || /^(?:fastify|@fastify\/)/.test(specifier)

for (const layer of ['data', 'migrator', 'catalog', 'cli', 'authoring', 'verbs']) {
  t.test(`src/${layer} knows nothing of HTTP: its errors are mapped elsewhere`, async (t) => {
    const imports = await importsOf(layer)
    t.ok(imports.length > 0, `${imports.length} imports read`)
    t.same(imports.filter(({ specifier }) => knowsHttp(specifier)), [])
  })
}

t.test('writing revisions is the command line\'s to call, not to hold: src/authoring imports nothing of src/cli', async (t) => {
  const imports = await importsOf('authoring')
  t.ok(imports.length > 0, `${imports.length} imports read`)
  t.same(imports.filter(({ specifier }) => /(?:^|\/)cli\//.test(specifier)), [])
})

t.test('a data error becomes a problem naming where in the request its field was', async (t) => {
  t.same(problemFromDataError(new ParentNotFoundError('experimentId', 'experiment')), {
    type: 'parent-not-found', title: 'Parent not found', status: 422, detail: 'experimentId names no existing experiment', field: 'body.experimentId', parent: 'experiment',
  })
  t.match(problemFromDataError(new InvalidCursorError()), { type: 'invalid-cursor', status: 400, field: 'querystring.cursor' })
  t.same(problemFromDataError(new IllegalTransitionError('completed', 'running')), {
    type: 'illegal-transition', title: 'Illegal status transition', status: 409, detail: 'a model run cannot go from completed to running', from: 'completed', to: 'running',
  })
})
