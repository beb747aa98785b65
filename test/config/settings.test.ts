import { readFile } from 'node:fs/promises'
import t from 'tap'
import { renderValidator, validatorPath } from '../../scripts/config-validator.mjs'
import { ConfigError, loadConfig, loadMigrationSettings } from '../../src/config.js'
import { EnvSchema } from '../../src/config-schema.js'
import { migratorDefaults } from '../../src/migrator/defaults.js'

t.test('the committed validator is the schema compiled: run `npm run config:validator` after changing src/config-schema.ts', async (t) => {
  t.ok(await readFile(validatorPath, 'utf8') === renderValidator(EnvSchema), 'src/config-validator.ts is current')
})

t.test('values are coerced, defaults are the engine\'s, and variables the schema does not name are left alone', async (t) => {
  const settings = loadMigrationSettings({ DATABASE_URL: 'postgres://app@db/aip', MIGRATION_LOCK_WAIT_MS: '42', MIGRATION_APPROVAL: 'required', SOMETHING_ELSE: 'x' })
  t.same(settings, {
    databaseUrl: 'postgres://app@db/aip',
    migrationDatabaseUrl: null,
    dataDir: './.data',
    lock: { waitMs: 42, lockTimeoutMs: migratorDefaults.lockTimeoutMs, retries: migratorDefaults.lockRetry.retries, retryBaseMs: migratorDefaults.lockRetry.baseMs, groupMs: migratorDefaults.groupMs },
    database: { migrationStatementTimeoutMs: migratorDefaults.statementTimeoutMs },
    review: { approvalRequired: true, largeTableRows: 100_000, archiveMaxBytes: 1024 * 1024 * 1024 },
    archiveRetentionDays: migratorDefaults.archiveRetentionDays,
    backup: { mode: 'off', dir: '.data/backups', keep: 5, binDir: undefined, hook: undefined },
    targets: null,
  })
})

t.test('archives and backups: their settings, checked', async (t) => {
  const settings = loadMigrationSettings({ ARCHIVE_RETENTION_DAYS: '7', ARCHIVE_MAX_BYTES: '1000', BACKUP_BEFORE_UPGRADE: 'pg_dump', BACKUP_DIR: '/backups', BACKUP_KEEP: '3', PG_BIN_DIR: '/usr/lib/postgresql/17/bin', BACKUP_HOOK: 'snapshot-db' })
  t.equal(settings.archiveRetentionDays, 7)
  t.equal(settings.review.archiveMaxBytes, 1000)
  t.same(settings.backup, { mode: 'pg_dump', dir: '/backups', keep: 3, binDir: '/usr/lib/postgresql/17/bin', hook: 'snapshot-db' })
  t.throws(() => loadMigrationSettings({ BACKUP_BEFORE_UPGRADE: 'rsync' }), /env\/BACKUP_BEFORE_UPGRADE/)
  t.throws(() => loadMigrationSettings({ ARCHIVE_RETENTION_DAYS: '0' }), /env\/ARCHIVE_RETENTION_DAYS must be >= 1/)
})

t.test('every wrong value is named at once, in one line', async (t) => {
  const error = t.throws(() => loadMigrationSettings({ MIGRATION_LOCK_WAIT_MS: 'soon', PORT: '70000', MIGRATION_APPROVAL: 'maybe' })) as Error
  t.type(error, ConfigError)
  t.match(error.message, /^invalid configuration: /)
  for (const part of ['env/MIGRATION_LOCK_WAIT_MS must be integer', 'env/PORT must be <= 65535', 'env/MIGRATION_APPROVAL']) t.match(error.message, part)
  t.notMatch(error.message, /\n/)
})

t.test('the service\'s start rules are the service\'s: a deploy job may hold the direct URL alone', async (t) => {
  const direct = { MIGRATION_DATABASE_URL: 'postgres://owner@db/aip' }
  t.equal(loadMigrationSettings(direct).migrationDatabaseUrl, 'postgres://owner@db/aip')
  t.throws(() => loadConfig(direct), /MIGRATION_DATABASE_URL is set without DATABASE_URL/)
  t.throws(() => loadMigrationSettings({ DATABASE_URL: 'mysql://db/x' }), /DATABASE_URL must use postgres/)
})
