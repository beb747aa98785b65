import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { MigrationSettings } from '../config.js'
import { UsageError } from './usage.js'

/** The database a verb runs against, and how to let it go. */
export interface CliDatabase {
  readonly url: string
  /** Which database this is, for one line on stderr; never its password. */
  readonly description: string
  release (): Promise<void>
}

/**
 * Alembic reads its `alembic.ini`; this reads what the service reads: `MIGRATION_DATABASE_URL`
 * or `DATABASE_URL`, else the embedded database of `DATA_DIR`, which the service running on it
 * already serves or which is started for this command alone and stopped after.
 */
export async function openCliDatabase (settings: Pick<MigrationSettings, 'databaseUrl' | 'migrationDatabaseUrl' | 'dataDir'>): Promise<CliDatabase> {
  // The verbs take the migration lock and write the bookkeeping: they need the direct connection.
  const [name, url] = settings.migrationDatabaseUrl !== null ? ['MIGRATION_DATABASE_URL', settings.migrationDatabaseUrl] : ['DATABASE_URL', settings.databaseUrl]
  if (url !== null) return { url, description: `${withoutPassword(url)} (${name})`, release: async () => {} }
  const root = resolve(settings.dataDir)
  const { hasEmbeddedDatabase, runningEmbedded } = await import('../embedded/running.js')
  if (!existsSync(root) || !hasEmbeddedDatabase(root)) {
    throw new UsageError(`no database: DATABASE_URL is not set and DATA_DIR ${root} ${existsSync(root) ? 'holds no embedded database yet' : 'does not exist'}; ` +
      'run `npm start` once to create it there, set DATA_DIR to where it is, set DATABASE_URL, or use --url <service>')
  }
  const running = await runningEmbedded(root)
  if (running !== null) {
    const by = running.ownerPid === null ? 'left running' : `run by aip-schema pid ${running.ownerPid}`
    return { url: running.url, description: `the embedded PostgreSQL in ${root} (${by}, port ${running.port})`, release: async () => {} }
  }
  const { startEmbeddedPostgres } = await import('../embedded/embedded-postgres.js')
  const started = await startEmbeddedPostgres({ dataDir: root })
  // Stopped with the command however it ends: a SIGTERM (a CI job's timeout) would otherwise leave the server running.
  const onSignal = (signal: NodeJS.Signals) => {
    started.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143)).catch(() => undefined)
  }
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal)
  return {
    url: started.url,
    description: `the embedded PostgreSQL in ${root} (started for this command, stopped after)`,
    release: async () => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
      await started.stop()
    },
  }
}

/** The URL as a user may see it: user, host, port and database; a password in it or in its query is left out. */
function withoutPassword (url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    parsed.searchParams.delete('password')
    return parsed.toString()
  } catch {
    return '(a URL that does not parse)'
  }
}
