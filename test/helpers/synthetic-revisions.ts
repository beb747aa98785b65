import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RevisionDefinition, RevisionStep } from '../../src/migrator/index.js'

interface Teardown { teardown (fn: () => unknown): void }

/** The id of the i-th synthetic revision: the same length at every i, so statements compare byte for byte. */
export const syntheticId = (index: number): string => `s${String(index).padStart(11, '0')}`

/** The i-th revision of a line, dated in line order, running `up` and `down`. */
export function lineRevision (index: number, up: RevisionStep[], down: RevisionStep[], description = `revision ${index}`): RevisionDefinition {
  return {
    revision: syntheticId(index),
    downRevisions: index === 1 ? [] : [syntheticId(index - 1)],
    description,
    createDate: new Date(Date.UTC(2025, 0, 1) + index * 60_000).toISOString(),
    up,
    down,
  }
}

/**
 * A migrations directory holding these revisions as plain .js modules (no TypeScript to
 * compile: a thousand load in moments); removed at teardown.
 */
export async function revisionsDir (t: Teardown, definitions: readonly RevisionDefinition[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `aip-schema-synthetic-${definitions.length}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  await Promise.all(definitions.map((definition) =>
    writeFile(join(dir, `${definition.revision}.js`), `export default ${JSON.stringify(definition)}\n`)))
  return dir
}

/** A migrations directory of `n` revisions in a line, each `CREATE TABLE t_i (id int)` and back. */
export async function syntheticRevisionsDir (t: Teardown, n: number): Promise<string> {
  return revisionsDir(t, Array.from({ length: n }, (_, offset) =>
    lineRevision(offset + 1, [`CREATE TABLE t_${offset + 1} (id int)`], [`DROP TABLE t_${offset + 1}`], `create t_${offset + 1}`)))
}
