import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { IllegalTransitionError, InvalidCursorError, ParentNotFoundError } from '../../src/data/errors.js'
import { problemFromDataError } from '../../src/http/error-problems.js'

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

for (const layer of ['data', 'migrator', 'catalog', 'cli']) {
  t.test(`src/${layer} knows nothing of HTTP: its errors are mapped elsewhere`, async (t) => {
    const imports = await importsOf(layer)
    t.ok(imports.length > 0, `${imports.length} imports read`)
    t.same(imports.filter(({ specifier }) => knowsHttp(specifier)), [])
  })
}

t.test('a data error becomes a problem naming where in the request its field was', async (t) => {
  t.same(problemFromDataError(new ParentNotFoundError('experimentId', 'experiment')), {
    type: 'parent-not-found', title: 'Parent not found', status: 422, detail: 'experimentId names no existing experiment', field: 'body.experimentId', parent: 'experiment',
  })
  t.match(problemFromDataError(new InvalidCursorError()), { type: 'invalid-cursor', status: 400, field: 'querystring.cursor' })
  t.same(problemFromDataError(new IllegalTransitionError('completed', 'running')), {
    type: 'illegal-transition', title: 'Illegal status transition', status: 409, detail: 'a model run cannot go from completed to running', from: 'completed', to: 'running',
  })
})

t.test('src/http is what plugins and routes stand on, never the other way round', async (t) => {
  const imports = await importsOf('http')
  t.ok(imports.length > 0, `${imports.length} imports read`)
  t.same(imports.filter(({ specifier }) => /(?:^|\/)(?:plugins|routes)\//.test(specifier)), [])
})

t.test('the Authorization header is read in src/auth alone', async (t) => {
  const outside = (await Promise.all(['review', 'routes', 'plugins', 'http'].map(importsOf))).flat()
  const files = [...new Set(outside.map(({ file }) => file))]
  const parsing = await Promise.all(files.map(async (file) => /Bearer \+|\/\^Bearer/.test(await readFile(join(src, file), 'utf8')) ? file : null))
  t.ok(files.length > 0, `${files.length} files read`)
  t.same(parsing.filter((file) => file !== null), [])
})
