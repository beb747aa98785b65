import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultMigrationsDir, type RevisionDefinition } from '../../src/migrator/index.js'

interface Teardown { teardown (fn: () => unknown): void }

const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * A release's migrations directory: this build's revisions less `without`, plus `extra`
 * modules, beside a `migrator` directory as in src/, so the modules' imports resolve.
 */
export async function releaseDir (t: Teardown, options: { without?: readonly string[], extra?: readonly RevisionDefinition[] } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aip-schema-release-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  const base = join(dir, 'src')
  const migrations = join(base, 'migrations')
  await mkdir(migrations, { recursive: true })
  await symlink(join(root, 'src', 'migrator'), join(base, 'migrator'), 'dir')
  const without = options.without ?? []
  for (const file of await readdir(defaultMigrationsDir)) {
    if (without.some((id) => file.startsWith(`${id}_`))) continue
    await cp(join(defaultMigrationsDir, file), join(migrations, file))
  }
  for (const definition of options.extra ?? []) {
    await writeFile(join(migrations, `${definition.revision}_test.ts`),
      `import { defineRevision } from '../migrator/revision.js'\n\nexport default defineRevision(${JSON.stringify(definition, null, 2)})\n`)
  }
  return migrations
}

/** A newer release's contract-phase revision on `parent`: breaking, so older code turns unready. */
export function contractRevision (revision: string, parent: string): RevisionDefinition {
  return {
    revision,
    downRevisions: [parent],
    description: 'a contract phase older code cannot live with',
    createDate: '2030-01-01T00:00:00.000Z',
    breaking: true,
    up: ["COMMENT ON TABLE model_runs IS 'contracted'"],
    down: ['COMMENT ON TABLE model_runs IS NULL'],
  }
}
