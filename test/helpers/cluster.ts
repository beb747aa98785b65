import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/embedded/embedded-postgres.js'
import { freePort } from './server.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface TestCluster {
  /** The `postgres` database of the cluster; the port stays the same across restarts. */
  readonly url: string
  /** Fast shutdown (SIGINT): PostgreSQL ends every session with 57P01, as in a real restart. */
  stop (): Promise<void>
  start (): Promise<void>
}

/** A PostgreSQL of the test's own in a temporary directory, free to stop and start; gone at teardown even when the test fails. */
export async function startTestCluster (t: Teardown): Promise<TestCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aip-resilience-'))
  const port = await freePort()
  let running: EmbeddedDatabase | null = await startEmbeddedPostgres({ dataDir, port })
  const url = running.url
  t.teardown(async () => {
    await running?.stop()
    await rm(dataDir, { recursive: true, force: true })
  })
  return {
    url,
    async stop () {
      await running?.stop()
      running = null
    },
    async start () {
      running ??= await startEmbeddedPostgres({ dataDir, port })
    },
  }
}
