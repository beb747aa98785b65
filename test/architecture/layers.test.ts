import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { IllegalTransitionError, InvalidCursorError, ParentNotFoundError } from '../../src/data/errors.js'
import { problemFromDataError } from '../../src/http/error-problems.js'

const src = fileURLToPath(new URL('../../src/', import.meta.url))

/** Every relative or package import of the layer's modules, with the file that makes it. */
async function importsOf (layer: string): Promise<Array<{ file: string, specifier: string }>> {
  const files = (await readdir(join(src, layer), { recursive: true })).filter((file) => file.endsWith('.ts'))
  return (await Promise.all(files.map(async (file) => importsIn(join(layer, file))))).flat()
}

/** The imports of one file, by its path from src/. */
async function importsIn (file: string): Promise<Array<{ file: string, specifier: string }>> {
  const text = await readFile(join(src, file), 'utf8')
  // Statements only (a line that opens or closes an import or export), not a module's text in a string.
  return [...text.matchAll(/^(?:import|export|\})[^'\n]*?from\s*'([^']+)'|import\(\s*'([^']+)'/gm)]
    .map((match) => ({ file, specifier: (match[1] ?? match[2]) as string }))
}

const knowsHttp = (specifier: string) => /(?:^|\/)(?:http|plugins|routes)\//.test(specifier) || /^(?:fastify|@fastify\/)/.test(specifier)

for (const layer of ['data', 'database', 'migrator', 'catalog', 'cli', 'authoring', 'verbs', 'revision-test', 'fleet', 'backup', 'replicas', 'schema-state']) {
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

/**
 * The one door, and the revision format beside it: a revision is frozen SQL that must load the
 * same in years, so it imports `src/migrator/revision.ts` (no imports of its own), never the engine.
 */
function throughTheDoor (file: string, landing: string): boolean {
  return landing === join('migrator', 'index.js') || (file.startsWith(`migrations${sep}`) && landing === join('migrator', 'revision.js'))
}

t.test('code outside the engine imports it only through src/migrator/index.ts', async (t) => {
  const outside = (await sourceFiles()).filter((file) => !file.startsWith(`migrator${sep}`))
  t.ok(outside.some((file) => file.startsWith(`review${sep}`)), 'src/review is among the files read')
  const imports = (await Promise.all(outside.map(async (file) => importsIn(file)))).flat()
  const intoEngine = imports.filter(({ file, specifier }) => landsAt(file, specifier)?.startsWith(`migrator${sep}`) === true)
  t.ok(intoEngine.length > 0, `${intoEngine.length} imports of the engine read`)
  t.same(intoEngine.filter(({ file, specifier }) => !throughTheDoor(file, landsAt(file, specifier) ?? '')), [])
})

t.test('the revision format imports nothing: a revision loads none of today\'s code', async (t) => {
  t.same(await importsIn(join('migrator', 'revision.ts')), [])
})

t.test('writing revisions is the command line\'s to call, not to hold: src/authoring imports nothing of src/cli', async (t) => {
  const imports = await importsOf('authoring')
  t.ok(imports.length > 0, `${imports.length} imports read`)
  t.same(imports.filter(({ specifier }) => /(?:^|\/)cli\//.test(specifier)), [])
})

t.test('testing revisions is the command line\'s to call: src/revision-test imports nothing of src/cli', async (t) => {
  const imports = await importsOf('revision-test')
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
