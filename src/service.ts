import { enableCompileCache } from 'node:module'
import type { EmbeddedDatabase } from './embedded/embedded-postgres.js'
import { tracingRequested } from './tracing/requested.js'

// V8's compiled code for the thousand-odd modules a start loads, kept on disk (NODE_COMPILE_CACHE,
// else the OS's temporary directory) so that the next start reads it instead of compiling them
// again. Enabled before they load, hence the dynamic imports below; where it cannot be written
// (a read-only root filesystem) the service starts as it would without it.
enableCompileCache()
// Before the app's modules load: node-postgres is patched when Knex first requires it.
const tracing = tracingRequested(process.env) ? (await import('./tracing/start.js')).startTracing() : undefined
const [{ default: closeWithGrace }, { buildApp }, { ConfigError, loadConfig }, { loggerOptions }, { MigratorError, ShuttingDownError }, { logStartBanner }, { retryUpgradeAtStart, upgradeAtStart }] = await Promise.all([
  import('close-with-grace'),
  import('./app.js'),
  import('./config.js'),
  import('./logging/options.js'),
  import('./migrator/index.js'),
  import('./start-banner.js'),
  import('./startup-upgrade.js'),
])

/** Reads the configuration, listens, and closes on SIGTERM/SIGINT. Nothing else. */
async function main (): Promise<void> {
  const config = loadConfig()
  let embedded: EmbeddedDatabase | null = null
  if (config.databaseUrl === null) {
    // Loaded only when used: it hooks process exit, and a server on a real database needs none of it.
    const { startEmbeddedPostgres } = await import('./embedded/embedded-postgres.js')
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir })
  }
  const app = await buildApp({
    databaseUrl: config.databaseUrl ?? (embedded as EmbeddedDatabase).url,
    migrationDatabaseUrl: config.migrationDatabaseUrl ?? undefined,
    config,
    logger: loggerOptions(config.logLevel, config.logFormat),
    tracing,
  })
  const startupRetry = new AbortController()
  // Past the grace period a migration is rolled back, which takes moments; this is the hard stop.
  closeWithGrace({ delay: config.shutdownGraceMs + 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an uncaught error')
    else app.log.info({ signal }, 'closing')
    startupRetry.abort()
    await app.drain(config.shutdownGraceMs)
    await app.close()
    await embedded?.stop()
    await tracing?.shutdown()
    app.log.info('stopped')
  })
  try {
    const upgraded = !config.migrateOnStart || await upgradeAtStart(app)
    await app.listen({ host: config.host, port: config.port })
    await logStartBanner(app, config)
    // A database that is not up yet is waited for while serving: live, not ready.
    if (!upgraded) retryUpgradeAtStart(app, startupRetry.signal).catch((error: unknown) => app.log.error({ err: error }, 'the start-up upgrade stopped'))
  } catch (error) {
    // A signal stopped the start-up upgrade: the shutdown under way ends the process.
    if (error instanceof ShuttingDownError) return
    await app.close()
    await embedded?.stop()
    throw error
  }
}

main().catch((error: unknown) => {
  const expected = error instanceof ConfigError || error instanceof MigratorError || ['DataDirInUseError', 'DataDirUnreachableError', 'BinariesUnreachableError'].includes((error as Error).name) ||
    ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ECONNREFUSED', 'ENOTFOUND'].includes((error as NodeJS.ErrnoException).code ?? '')
  process.stderr.write(`aip-schema: ${expected ? (error as Error).message : (error as Error).stack ?? String(error)}\n`)
  // Exit now: the embedded server's exit hook would otherwise end the process with code 0.
  process.exit(1)
})
