import { stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

/**
 * The first directory on the way to `path` that a user who is neither its owner nor in its group
 * may not enter (the `postgres` user, for directories root made), or null when there is none.
 */
export async function unreachableAncestor (path: string): Promise<string | null> {
  const chain: string[] = []
  for (let dir = resolve(path); !chain.includes(dir); dir = dirname(dir)) chain.unshift(dir)
  for (const dir of chain) {
    if (((await stat(dir)).mode & 0o001) === 0) return dir
  }
  return null
}
