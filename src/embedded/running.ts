import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dataDirLayout, embeddedUrl, isAlive, readPidFile } from './data-dir.js'

/** The embedded server a process (a running service, most often) keeps up on a data directory. */
export interface RunningEmbedded {
  readonly url: string
  readonly port: number
  /** The postmaster's. */
  readonly pid: number
  /** The aip-schema process that started it, when it is still alive. */
  readonly ownerPid: number | null
}

/** Whether the data directory holds a database the service made: the command line never makes one. */
export function hasEmbeddedDatabase (dataDir: string): boolean {
  return existsSync(join(dataDirLayout(dataDir).pgdata, 'PG_VERSION'))
}

/**
 * The server running on the data directory, found the way PostgreSQL's own tools find it: its
 * `postmaster.pid` names the postmaster and, on its fourth line, the port. Null when none runs.
 */
export async function runningEmbedded (dataDir: string): Promise<RunningEmbedded | null> {
  const layout = dataDirLayout(dataDir)
  const postmaster = await readPidFile(layout.postmasterPid)
  if (postmaster === null || !isAlive(postmaster.pid)) return null
  const port = Number.parseInt(postmaster.lines[3] ?? '', 10)
  if (!Number.isInteger(port) || port <= 0) return null
  const password = (await readFile(layout.password, 'utf8')).trim()
  const owner = await readPidFile(layout.ownerPid)
  return { url: embeddedUrl(password, port), port, pid: postmaster.pid, ownerPid: owner !== null && isAlive(owner.pid) ? owner.pid : null }
}
