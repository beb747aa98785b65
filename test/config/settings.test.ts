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
    review: { approvalRequired: true, largeTableRows: 100_000 },
  })
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
