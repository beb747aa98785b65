// A migrations directory the engine can load: the seed's first two revisions as they ship,
// then the naive forms of the last two.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRevisions } from '../../dist/migrator/index.js'
import { naiveRevisions } from './revisions.mjs'

export async function naiveMigrationsDirectory () {
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-naive-'))
  const shipped = (await loadRevisions()).filter((revision) => !naiveRevisions.some((naive) => naive.revision === revision.revision))
  const definitions = [
    ...shipped.map(({ revision, downRevisions, description, createDate, transactional, up, down }) => ({ revision, downRevisions, description, createDate, transactional, up, down })),
    ...naiveRevisions,
  ]
  for (const definition of definitions) {
    await writeFile(join(dir, `${definition.revision}.mjs`), `export default ${JSON.stringify(definition, null, 2)}\n`)
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}
