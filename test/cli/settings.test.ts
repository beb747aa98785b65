import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { shippedHead as head } from '../helpers/shipped.js'

/** The CLI reads the service's settings through the service's schema: a migration setting the service honours, it honours. */
const url = await createTestDatabase(t, 'cli_settings')
const db = testKnex(t, url)
const env = { DATABASE_URL: url, MIGRATION_LOCK_TIMEOUT_MS: '0', MIGRATION_LOCK_RETRIES: '0' }

t.test('MIGRATION_STATEMENT_TIMEOUT_MS cancels a revision statement that waits past it', async (t) => {
  t.equal((await runCli(['upgrade'], env)).code, 0)
  // The head revision's downgrade alters a data table: held off by a transaction that holds
  // them all, with no lock_timeout it would wait as long as that transaction lasts.
  const reader = await db.transaction()
  try {
    await reader.raw('LOCK TABLE model_runs, preprocessing_steps, preprocessing_history IN ACCESS EXCLUSIVE MODE')
    const started = performance.now()
    const down = await runCli(['downgrade', '-1'], { ...env, MIGRATION_STATEMENT_TIMEOUT_MS: '300' })
    t.equal(down.code, 1, down.stderr)
    t.match(down.stderr, /FAILED: .*canceling statement due to statement timeout/)
    t.ok(performance.now() - started < 20_000, 'cancelled, not left waiting')
  } finally {
    await reader.rollback()
  }
  t.same(await db('alembic_version').pluck('version_num'), [head], 'nothing moved')
})

t.test('a setting the service refuses, the CLI refuses the same way: bad usage', async (t) => {
  const run = await runCli(['current'], { ...env, MIGRATION_STATEMENT_TIMEOUT_MS: 'soon' })
  t.equal(run.code, 2)
  t.match(run.stderr, /^aip-schema: invalid configuration: .*MIGRATION_STATEMENT_TIMEOUT_MS must be integer/)
})
