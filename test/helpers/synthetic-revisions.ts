import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RevisionDefinition } from '../../src/migrator/revision.js'

interface Teardown { teardown (fn: () => unknown): void }

/** The id of the i-th synthetic revision: the same length at every i, so statements compare byte for byte. */
export const syntheticId = (index: number): string => `s${String(index).padStart(11, '0')}`

/**
 * A migrations directory of `n` revisions in a line, each `CREATE TABLE t_i (id int)` and back,
 * as plain .js modules (no TypeScript to compile: a thousand load in moments).
 */
export async function syntheticRevisionsDir (t: Teardown, n: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `aip-schema-synthetic-${n}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  await Promise.all(Array.from({ length: n }, async (_, offset) => {
    const index = offset + 1
    const definition: RevisionDefinition = {
      revision: syntheticId(index),
      downRevisions: index === 1 ? [] : [syntheticId(index - 1)],
      description: `create t_${index}`,
      createDate: new Date(Date.UTC(2025, 0, 1) + index * 60_000).toISOString(),
      up: [`CREATE TABLE t_${index} (id int)`],
      down: [`DROP TABLE t_${index}`],
    }
    await writeFile(join(dir, `${syntheticId(index)}_create_t_${index}.js`), `export default ${JSON.stringify(definition)}\n`)
  }))
  return dir
}
