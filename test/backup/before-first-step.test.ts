import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import type { BackupSettings } from '../../src/backup/before-first-step.js'
import { bearer, buildTestApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/database.js'

const run = promisify(execFile)
const url = await createTestDatabase(t, 'backup')

async function tempDir (t: Test, label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `aip-schema-${label}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function appWith (t: Test, backup: Partial<BackupSettings>) {
  const dir = await tempDir(t, 'backups')
  const app = await buildTestApp(t, url, { backup: { mode: 'pg_dump', dir, keep: 2, ...backup } })
  return { app, dir }
}

async function refused (t: Test, app: Awaited<ReturnType<typeof appWith>>['app'], reason: RegExp) {
  const answer = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(answer.statusCode, 409, answer.body)
  t.match(answer.json(), { type: /backup-failed$/, detail: reason })
  t.same((await app.migrator.status()).current, [], 'the upgrade did not start: still at base')
  const [operation] = await app.migrator.operations(1)
  t.match(operation, { status: 'failed', stepsDone: 0, error: { kind: 'backup-failed' } }, 'the refusal is audited')
}

t.test('pg_dump missing (PG_BIN_DIR without it): 409, the upgrade does not start', async (t) => {
  const { app } = await appWith(t, { binDir: '/nonexistent/bin' })
  await refused(t, app, /\/nonexistent\/bin\/pg_dump is not installed/)
})

t.test('a pg_dump older than the server: 409 naming both majors', async (t) => {
  const bin = await tempDir(t, 'old-pg-dump')
  await writeFile(join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n')
  await chmod(join(bin, 'pg_dump'), 0o755)
  const { app } = await appWith(t, { binDir: bin })
  await refused(t, app, /is PostgreSQL 9, older than the server's \d+/)
})

t.test('a failing hook keeps the migration from starting', async (t) => {
  const { app } = await appWith(t, { mode: 'off', hook: 'echo "snapshot quota exceeded" >&2; exit 3' })
  await refused(t, app, /BACKUP_HOOK failed \(exit 3\): snapshot quota exceeded/)
})

t.test('with the real pg_dump: a dump pg_restore --list reads, its size and SHA-256 in the operation, the newest BACKUP_KEEP kept', async (t) => {
  const { app, dir } = await appWith(t, { hook: 'echo "snapshot-for-$AIP_SCHEMA_OPERATION_KIND"' })
  const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(upgraded.statusCode, 200, upgraded.body)
  const [operation] = await app.migrator.operations(1)
  const backup = operation?.backup
  t.ok(backup?.path?.startsWith(dir), `written to BACKUP_DIR: ${String(backup?.path)}`)
  t.same(backup?.hook, { command: 'echo "snapshot-for-$AIP_SCHEMA_OPERATION_KIND"', output: 'snapshot-for-upgrade' }, "the hook's answer is audited")
  const file = await readFile(backup?.path as string)
  t.equal(backup?.bytes, file.length)
  t.equal(backup?.sha256, createHash('sha256').update(file).digest('hex'))
  const { stdout } = await run('pg_restore', ['--list', backup?.path as string])
  t.match(stdout, /TABLE public alembic_version/, 'pg_restore reads it: taken before the first step, alembic_version is already there but empty of steps')
  const read = await app.inject({ method: 'GET', url: `/migrations/operations/${operation?.id ?? ''}`, headers: bearer('read') })
  t.match(read.json(), { backup: { path: backup?.path, bytes: backup?.bytes, sha256: backup?.sha256 } }, 'the operation shows it')

  for (const target of ['base', 'head']) {
    const method = target === 'base' ? 'downgrade' : 'upgrade'
    const answer = await app.inject({ method: 'POST', url: `/migrations/${method}`, headers: bearer('admin'), payload: { target } })
    t.equal(answer.statusCode, 200, answer.body)
  }
  t.equal((await readdir(dir)).filter((name) => name.endsWith('.dump')).length, 2, 'BACKUP_KEEP=2: the oldest removed')
  const dryRun = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: 'base', dryRun: true } })
  t.equal(dryRun.statusCode, 200)
  t.notOk((await app.migrator.operations(1))[0]?.backup, 'a dry run takes no backup')
})
