import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

/** Where a data directory keeps its parts: the one place both the service and the command line read them from. */
export interface DataDirLayout {
  readonly root: string
  /** PostgreSQL's own data directory, with its `postmaster.pid` while a server runs on it. */
  readonly pgdata: string
  readonly postmasterPid: string
  /** The superuser's password, made at the first start. */
  readonly password: string
  /** The aip-schema process that owns the directory. */
  readonly ownerPid: string
}

export function dataDirLayout (dataDir: string): DataDirLayout {
  const root = resolve(dataDir)
  const pgdata = join(root, 'pg')
  return { root, pgdata, postmasterPid: join(pgdata, 'postmaster.pid'), password: join(root, 'password'), ownerPid: join(root, 'aip-schema.pid') }
}

/** A pid file's lines (PostgreSQL's `postmaster.pid` has the port on its fourth), or null when there is none. */
export async function readPidFile (file: string): Promise<{ readonly pid: number, readonly lines: readonly string[] } | null> {
  let lines: string[]
  try {
    lines = (await readFile(file, 'utf8')).split('\n')
  } catch {
    return null
  }
  const pid = Number.parseInt(lines[0] ?? '', 10)
  return Number.isInteger(pid) && pid > 0 ? { pid, lines } : null
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** How the service and the command line reach the embedded server: its superuser, on loopback. */
export function embeddedUrl (password: string, port: number): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
}
