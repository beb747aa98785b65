import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli as runInProcess } from '../../src/cli/run.js'
import type { CliRun } from '../helpers/cli.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'

const url = await createTestDatabase(t, 'cli_backups')
// The one thing a restore needs besides its source: a database to restore into.
const into = await createTestDatabase(t, 'cli_backups_restored')
const dir = await mkdtemp(join(tmpdir(), 'aip-schema-cli-backups-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

async function cli (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const code = await runInProcess(args, { DATABASE_URL: url, BACKUP_BEFORE_UPGRADE: 'pg_dump', BACKUP_DIR: dir, ...env }, { stdout: { write: (text: string) => { stdout += text } }, stderr: { write: (text: string) => { stderr += text } } })
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

t.test('backups lists the dump an upgrade took; restore-backup puts it into another database, never over its own without --force', async (t) => {
  t.equal((await cli(['backups'])).stdout, 'No backups.\n')
  const upgraded = await cli(['upgrade', 'c3d4e5f6g7h8'])
  t.equal(upgraded.code, 0, upgraded.stderr)
  await testKnex(t, url).raw("INSERT INTO users (email, username, hashed_password) VALUES ('b@example.com', 'b', 'x')")
  t.equal((await cli(['upgrade', 'head'])).code, 0)

  const listed = await cli(['backups', '--json'])
  const backups = listed.json().backups as Array<{ id: string, path: string, target: string }>
  t.equal(backups.length, 2, 'one per operation with steps')
  const [latest] = backups
  t.equal(latest?.target, 'head', 'newest first')
  t.match((await cli(['backups'])).stdout, new RegExp(`^${latest?.id ?? ''}  \\S+ before upgrade head: ${dir}/aip-schema-\\S+\\.dump, \\d+ bytes, sha256 [0-9a-f]{64}$`, 'm'))

  const own = await cli(['restore-backup', latest?.id ?? '', '--into', url])
  t.equal(own.code, 1)
  t.match(own.stderr, /is the database the backup came from .* add --force/)

  const restored = await cli(['restore-backup', latest?.id ?? '', '--into', into])
  t.equal(restored.code, 0, restored.stderr)
  const copy = testKnex(t, into)
  t.equal((await copy.raw('SELECT version_num FROM alembic_version')).rows[0]?.version_num, 'c3d4e5f6g7h8', 'the state before that upgrade')
  t.equal(Number((await copy.raw('SELECT count(*) FROM users')).rows[0]?.count), 1, 'with its data')

  t.equal((await cli(['restore-backup', latest?.id ?? ''])).code, 2, '--into is required')
  t.equal((await cli(['restore-backup', '00000000-0000-4000-8000-000000000000', '--into', into])).code, 1, 'an operation without a backup')
  const remote = await cli(['backups', '--url', 'http://127.0.0.1:9'])
  t.equal(remote.code, 1)
  t.match(remote.stderr, /without --url/)
})
