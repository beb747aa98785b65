import { access } from 'node:fs/promises'
import type { Knex } from 'knex'
import { tables } from '../migrator/index.js'
import { digestOf } from './before-first-step.js'
import { connectionOf, pgTool, runTool } from './pg-tools.js'

export interface BackupEntry {
  /** The operation that took it: what `restore-backup` names. */
  readonly id: string
  readonly kind: string
  readonly target: string
  readonly takenAt: string
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

/** The dumps operations took, newest first, as their audit rows recorded them (a file may since have been removed by BACKUP_KEEP). */
export async function listBackups (knex: Knex): Promise<BackupEntry[]> {
  const present = (await knex.raw<{ rows: Array<{ present: boolean }> }>('SELECT to_regclass(?) IS NOT NULL AS present', [tables.operations])).rows[0]?.present
  if (present !== true) return []
  const { rows } = await knex.raw<{ rows: Array<{ id: string, kind: string, target: string, started_at: Date, backup: { path: string, bytes: number, sha256: string } }> }>(
    `SELECT id, kind, target, started_at, backup FROM ${tables.operations} WHERE backup->>'path' IS NOT NULL ORDER BY started_at DESC, id DESC`)
  return rows.map((row) => ({ id: row.id, kind: row.kind, target: row.target, takenAt: new Date(row.started_at).toISOString(), path: row.backup.path, bytes: row.backup.bytes, sha256: row.backup.sha256 }))
}

/** Why a restore was not run: the user's to fix, not a failure of the tool. */
export class BackupRestoreRefusedError extends Error {}

/** Host, port and database: the same three name the same database, whatever the user or options. */
function databaseOf (databaseUrl: string): string {
  const url = new URL(databaseUrl)
  const host = url.hostname === 'localhost' || url.hostname === '[::1]' ? '127.0.0.1' : url.hostname
  return `${host}:${url.port === '' ? '5432' : url.port}${decodeURIComponent(url.pathname)}`
}

/**
 * pg_restore of a backup into another database (empty, or one to be overwritten object by
 * object). Over the database it came from only with `force` (then `--clean`): that throws away
 * everything since the backup. The file is checked against the SHA-256 recorded when it was taken.
 */
export async function restoreBackup (backup: BackupEntry, options: { into: string, source: string, binDir?: string | undefined, force: boolean }): Promise<void> {
  const intoUrl = new URL(options.into)
  if (intoUrl.protocol !== 'postgres:' && intoUrl.protocol !== 'postgresql:') throw new BackupRestoreRefusedError('--into must be a postgres:// URL')
  const same = databaseOf(options.into) === databaseOf(options.source)
  if (same && !options.force) throw new BackupRestoreRefusedError(`--into is the database the backup came from (${databaseOf(options.into)}): restoring over it throws away every change since ${backup.takenAt}; add --force if that is what you want`)
  try {
    await access(backup.path)
  } catch {
    throw new BackupRestoreRefusedError(`${backup.path} is gone (BACKUP_KEEP removes older dumps, or this is not the machine that took it)`)
  }
  const { sha256 } = await digestOf(backup.path)
  if (sha256 !== backup.sha256) throw new BackupRestoreRefusedError(`${backup.path} is not the file that was taken: its SHA-256 is ${sha256}, the operation recorded ${backup.sha256}`)
  const { dbname, env } = connectionOf(options.into)
  await runTool(pgTool(options.binDir, 'pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '--no-password', ...(same ? ['--clean', '--if-exists'] : []), `--dbname=${dbname}`, backup.path], env)
}
