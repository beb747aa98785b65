import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Revision, type RevisionDefinition, toRevision } from '../migrator/index.js'

/** A revision whose module gives other SQL when it is loaded again: its checksum would fail a database it was applied to. */
export interface UnstableChecksum {
  readonly revision: string
  readonly file: string
}

/**
 * Loads every module of the directory a second time, as a fresh module (a query string defeats
 * the module cache), and compares each checksum with the first load's: SQL built from the
 * clock, the environment or a random number changes here.
 */
export async function unstableChecksums (dir: string, first: readonly Revision[]): Promise<UnstableChecksum[]> {
  const reload = Date.now()
  const again = await Promise.all(first.map(async ({ file }) => {
    const module = await import(`${pathToFileURL(join(dir, file)).href}?reload=${reload}`) as { default: RevisionDefinition }
    return toRevision(module.default, file)
  }))
  return first.filter((revision, index) => again[index]?.revision !== revision.revision || again[index]?.checksum !== revision.checksum)
    .map(({ revision, file }) => ({ revision, file }))
}
