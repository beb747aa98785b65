import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SchemaSnapshotMissingError } from './errors.js'
import type { SchemaDefinition } from './schema.js'

/** The committed snapshots, beside `src/` and `dist/` alike. */
export const defaultSnapshotsDir = fileURLToPath(new URL('../../schema-snapshots/', import.meta.url))

/** The schema a revision produces; `revision` null is base. */
export interface SchemaSnapshot extends SchemaDefinition {
  readonly revision: string | null
}

const baseName = 'base'

function fileOf (dir: string, revision: string | null): string {
  return join(dir, `${revision ?? baseName}.json`)
}

export async function readSnapshot (dir: string, revision: string | null): Promise<SchemaSnapshot> {
  try {
    return JSON.parse(await readFile(fileOf(dir, revision), 'utf8')) as SchemaSnapshot
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && revision !== null) throw new SchemaSnapshotMissingError(revision)
    throw error
  }
}

/** Every snapshot of the directory, base first then by revision id. */
export async function readSnapshots (dir: string): Promise<SchemaSnapshot[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.json'))
  const revisions = files.map((file) => file.slice(0, -'.json'.length)).filter((name) => name !== baseName).sort()
  return Promise.all([null, ...revisions].map((revision) => readSnapshot(dir, revision)))
}

/** Replaces the directory's snapshots, so one of a revision that no longer exists goes too. */
export async function writeSnapshots (dir: string, snapshots: readonly SchemaSnapshot[]): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.json'))) await rm(join(dir, file))
  for (const snapshot of snapshots) await writeSnapshot(dir, snapshot)
}

/** Writes one snapshot beside the others; resolves with its file. */
export async function writeSnapshot (dir: string, snapshot: SchemaSnapshot): Promise<string> {
  const file = fileOf(dir, snapshot.revision)
  await writeFile(file, `${JSON.stringify(snapshot, null, 2)}\n`)
  return file
}
