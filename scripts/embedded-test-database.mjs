// The database of `npm test` when nothing answers at the default address: an embedded PostgreSQL
// in a temporary directory of its own (one the `postgres` user can reach when run as root).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function startEmbeddedTestDatabase () {
  const { startEmbeddedPostgres } = await import('../dist/embedded/embedded-postgres.js')
  const dataDir = await mkdtemp(join(tmpdir(), 'aip-schema-test-'))
  const removeDataDir = () => rm(dataDir, { recursive: true, force: true })
  const embedded = await startEmbeddedPostgres({ dataDir }).catch(async (error) => {
    await removeDataDir()
    throw error
  })
  return {
    url: embedded.url,
    dataDir,
    async stop () {
      await embedded.stop()
      await removeDataDir()
    },
  }
}
