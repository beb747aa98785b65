import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { IllegalTransitionError, InvalidCursorError, ParentNotFoundError } from '../../src/data/errors.js'
import { problemFromDataError } from '../../src/http/problems.js'

const src = fileURLToPath(new URL('../../src/', import.meta.url))

/** Every relative or package import of the layer's modules, with the file that makes it. */
async function importsOf (layer: string): Promise<Array<{ file: string, specifier: string }>> {
  const files = (await readdir(join(src, layer), { recursive: true })).filter((file) => file.endsWith('.ts'))
  return (await Promise.all(files.map(async (file) => importsIn(join(layer, file))))).flat()
}

/** The imports of one file, by its path from src/. */
async function importsIn (file: string): Promise<Array<{ file: string, specifier: string }>> {
  const text = await readFile(join(src, file), 'utf8')
  return [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((match) => ({ file, specifier: match[1] as string }))
}

const knowsHttp = (specifier: string) => /(?:^|\/)(?:http|plugins|routes)\//.test(specifier) || /^(?:fastify|@fastify\/)/.test(specifier)

for (const layer of ['data', 'database', 'migrator', 'catalog', 'cli']) {
  t.test(`src/${layer} knows nothing of HTTP: its errors are mapped elsewhere`, async (t) => {
    const imports = await importsOf(layer)
    t.ok(imports.length > 0, `${imports.length} imports read`)
    t.same(imports.filter(({ specifier }) => knowsHttp(specifier)), [])
  })
}

/** Every `.ts` file under src/, by its path from src/. */
async function sourceFiles (): Promise<string[]> {
  return (await readdir(src, { recursive: true })).filter((file) => file.endsWith('.ts'))
}

/** Where an import of `file` lands, from src/; null for a package. */
function landsAt (file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null
  return relative(src, join(src, dirname(file), specifier))
}

t.test('code outside the engine imports it only through src/migrator/index.ts', async (t) => {
  const outside = (await sourceFiles()).filter((file) => !file.startsWith(`migrator${sep}`))
  t.ok(outside.some((file) => file.startsWith(`review${sep}`)), 'src/review is among the files read')
  const imports = (await Promise.all(outside.map(async (file) => importsIn(file)))).flat()
  const intoEngine = imports.filter(({ file, specifier }) => landsAt(file, specifier)?.startsWith(`migrator${sep}`) === true)
  t.ok(intoEngine.length > 0, `${intoEngine.length} imports of the engine read`)
  t.same(intoEngine.filter(({ file, specifier }) => landsAt(file, specifier) !== join('migrator', 'index.js')), [])
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
