import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { BackupFailedError, type BeforeFirstStep, type OperationBackup } from '../migrator/index.js'
import { connectionOf, pgTool, runTool, toolMajor } from './pg-tools.js'

const run = promisify(execFile)

export interface BackupSettings {
  /** BACKUP_BEFORE_UPGRADE. */
  readonly mode: 'off' | 'pg_dump'
  /** BACKUP_DIR. */
  readonly dir: string
  /** BACKUP_KEEP: the newest dumps kept; older ones are removed after each new one. */
  readonly keep: number
  /** PG_BIN_DIR: where pg_dump is; PATH when unset. */
  readonly binDir?: string | undefined
  /** BACKUP_HOOK: a shell command run before the first step (a platform snapshot); what it prints is audited. */
  readonly hook?: string | undefined
}

/** The dumps this service writes: the time first, so names sort as they were taken. */
const dumpName = /^aip-schema-\d{8}T\d{6}Z-[0-9a-f-]{36}\.dump$/

/** What the engine runs before the first step, or undefined when neither a dump nor a hook is configured. */
export function backupBeforeFirstStep (settings: BackupSettings, databaseUrl: string): BeforeFirstStep | undefined {
  if (settings.mode === 'off' && settings.hook === undefined) return undefined
  return async (operation) => {
    const hook = settings.hook === undefined ? undefined : await runHook(settings.hook, operation)
    const dump = settings.mode === 'pg_dump' ? await dumpDatabase(settings, databaseUrl, operation.id) : { path: null, bytes: null, sha256: null }
    const backup: OperationBackup = { ...dump, ...(hook === undefined ? {} : { hook }) }
    return backup
  }
}

async function dumpDatabase (settings: BackupSettings, databaseUrl: string, operation: string): Promise<Pick<OperationBackup, 'path' | 'bytes' | 'sha256'>> {
  const pgDump = pgTool(settings.binDir, 'pg_dump')
  const tool = await toolMajor(pgDump)
  if ('problem' in tool) throw new BackupFailedError(tool.problem)
  const server = await serverMajor(databaseUrl)
  // pg_dump refuses a newer server; an older pg_dump would anyway, after connecting.
  if (tool.major < server) throw new BackupFailedError(`${pgDump} is PostgreSQL ${tool.major}, older than the server's ${server}: install pg_dump ${server} or newer (or set PG_BIN_DIR)`)
  const dir = resolve(settings.dir)
  await mkdir(dir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  const path = join(dir, `aip-schema-${stamp}-${operation}.dump`)
  const { dbname, env } = connectionOf(databaseUrl)
  try {
    await runTool(pgDump, ['--format=custom', '--no-password', `--file=${path}`, `--dbname=${dbname}`], env)
  } catch (error) {
    await rm(path, { force: true })
    throw new BackupFailedError((error as Error).message)
  }
  const { bytes, sha256 } = await digestOf(path)
  if (bytes === 0) throw new BackupFailedError(`${pgDump} wrote an empty file`)
  await keepNewest(dir, settings.keep)
  return { path, bytes, sha256 }
}

async function serverMajor (databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num')
    return Math.floor(Number(rows[0]?.server_version_num) / 10_000)
  } finally {
    await client.end()
  }
}

export async function digestOf (path: string): Promise<{ bytes: number, sha256: string }> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return { bytes: (await stat(path)).size, sha256: hash.digest('hex') }
}

/** Retention by count: the newest `keep` dumps of this service stay; nothing else in the directory is touched. */
async function keepNewest (dir: string, keep: number): Promise<void> {
  const dumps = (await readdir(dir)).filter((name) => dumpName.test(name)).sort()
  for (const name of dumps.slice(0, Math.max(0, dumps.length - keep))) await rm(join(dir, name), { force: true })
}

/**
 * BACKUP_HOOK: for a database too large to dump, the command that takes (or checks) the
 * platform's snapshot. It gets the operation in its environment; a non-zero exit keeps the
 * migration from starting, and what it prints (the snapshot's id) is kept with the operation.
 */
async function runHook (command: string, operation: { readonly id: string, readonly kind: string }): Promise<{ command: string, output: string }> {
  try {
    const { stdout } = await run('/bin/sh', ['-c', command], {
      timeout: 30 * 60 * 1000,
      maxBuffer: 1024 * 1024,
      env: { ...process.env, AIP_SCHEMA_OPERATION: operation.id, AIP_SCHEMA_OPERATION_KIND: operation.kind },
    })
    return { command, output: stdout.trim().slice(0, 4000) }
  } catch (error) {
    const failed = error as { code?: number | string, stderr?: string }
    throw new BackupFailedError(`BACKUP_HOOK failed (exit ${String(failed.code)}): ${(failed.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`)
  }
}
