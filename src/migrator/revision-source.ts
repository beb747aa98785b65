import { createHash } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL, fileURLToPath } from 'node:url'
import { InvalidRevisionGraphError } from './errors.js'
import { revisionHasBackfill, type Revision, type RevisionDefinition, type RevisionStep } from './revision.js'

/** The revisions this build ships: `src/migrations` under tests, `dist/migrations` once built. */
export const defaultMigrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url))

const moduleFile = /^[^.].*\.(?:ts|js|mjs)$/
const declarationFile = /\.d\.ts$/

/** Loads every revision module of a directory; the order comes from the graph, never from file names. */
export async function loadRevisions (dir: string = defaultMigrationsDir): Promise<Revision[]> {
  const files = (await readdir(dir)).filter((file) => moduleFile.test(file) && !declarationFile.test(file)).sort()
  // Imported together: one after another, a thousand modules wait on a thousand reads in turn.
  const loaded = await Promise.all(files.map(async (file) =>
    (await import(pathToFileURL(join(dir, file)).href) as { default?: unknown }).default))
  const problems: string[] = []
  const revisions: Revision[] = []
  for (const [index, file] of files.entries()) {
    const definition = loaded[index]
    if (isRevisionDefinition(definition)) revisions.push(toRevision(definition, file))
    else problems.push(`${file} does not export a revision (export default defineRevision({ ... }))`)
  }
  if (problems.length > 0) throw new InvalidRevisionGraphError(problems)
  return revisions
}

export function toRevision (definition: RevisionDefinition, file: string): Revision {
  // A backfill commits batch by batch: its revision cannot be one transaction.
  const transactional = revisionHasBackfill(definition) ? false : definition.transactional ?? true
  return { ...definition, transactional, breaking: definition.breaking === true, file, checksum: checksumOf(definition.up, definition.down, transactional) }
}

/** What an applied revision is held to: the SQL both ways, not its file name or its wording. */
export function checksumOf (up: readonly RevisionStep[], down: readonly RevisionStep[], transactional: boolean): string {
  return createHash('sha256').update(JSON.stringify({ up, down, transactional })).digest('hex')
}

function isRevisionDefinition (value: unknown): value is RevisionDefinition {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Partial<Record<keyof RevisionDefinition, unknown>>
  return typeof candidate.revision === 'string' &&
    Array.isArray(candidate.downRevisions) &&
    typeof candidate.description === 'string' &&
    typeof candidate.createDate === 'string' &&
    Array.isArray(candidate.up) &&
    Array.isArray(candidate.down)
}
