import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createTestDatabase, testKnex } from '../helpers/database.js'
import { startServer, type RunningServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

/*
 * Two built replicas work one rollout of 50 schema targets; one of them is killed with SIGKILL
 * five times while it runs and started again each time. The queue gives a dead replica's jobs
 * to the other once its heartbeats stop; the per-target lock and the state read under it keep
 * every revision applied once.
 */
// A job a killed replica held waits out its heartbeats before another takes it: minutes, under load.
t.setTimeout(300_000)
const url = await createTestDatabase(t, 'rollout_replicas')
const knex = testKnex(t, url)
const dir = await mkdtemp(join(tmpdir(), 'aip-schema-rollout-replicas-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const tenants = Array.from({ length: 50 }, (_, index) => `tenant_${String(index).padStart(2, '0')}`)
const targetsFile = join(dir, 'targets.yaml')
await writeFile(targetsFile, [
  'environments: [production]',
  'self: { name: home, environment: production }',
  'targets:',
  ...tenants.map((name) => `  - { name: ${name.replace('_', '-')}, environment: production, url: "${url}", schema: ${name} }`),
].join('\n'))
const env = { DATABASE_URL: url, AUTH_DISABLED: 'true', TARGETS_FILE: targetsFile }

const replicas: RunningServer[] = [await startServer(env), await startServer(env)]
t.teardown(() => Promise.all(replicas.map(async (replica) => replica.stop('SIGKILL'))))

t.test('the rollout completes through five kills, each revision applied once per target, no lock left', async (t) => {
  const created = await fetch(`${replicas[1]?.baseUrl ?? ''}/rollouts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ targets: tenants.map((name) => name.replace('_', '-')), maxParallel: 8, canary: 0 }),
  })
  t.equal(created.status, 202)
  const { id } = await created.json() as { id: string }

  for (let kill = 0; kill < 5; kill += 1) {
    await new Promise((resolve) => setTimeout(resolve, 400))
    await replicas[0]?.stop('SIGKILL')
    replicas[0] = await startServer(env)
  }

  let rollout: { status: string, counts: Record<string, number> } = { status: 'queued', counts: {} }
  await waitFor(async () => {
    rollout = await (await fetch(`${replicas[1]?.baseUrl ?? ''}/rollouts/${id}`)).json() as typeof rollout
    return ['succeeded', 'failed', 'cancelled'].includes(rollout.status)
  }, 240_000)
  t.equal(rollout.status, 'succeeded')
  t.equal(rollout.counts.succeeded, 50)

  const head = ((await (await fetch(`${replicas[1]?.baseUrl ?? ''}/migrations/heads`)).json()) as { heads: Array<{ revision: string }> }).heads.map((entry) => entry.revision)
  const revisions = ((await (await fetch(`${replicas[1]?.baseUrl ?? ''}/migrations/history`)).json()) as { revisions: unknown[] }).revisions.length
  for (const schema of tenants) {
    const versions = (await knex.withSchema(schema).select('version_num').from('alembic_version')).map((row: { version_num: string }) => row.version_num)
    t.same(versions, head, `${schema} at head`)
    const applied = await knex.raw<{ rows: Array<{ revision: string, times: number }> }>(
      `SELECT step->>'revision' AS revision, count(*)::int AS times FROM ${schema}.aip_schema_operation_steps s
       JOIN ${schema}.aip_schema_operations o ON o.id = s.operation
       WHERE o.status = 'succeeded' AND NOT o.dry_run AND step->>'direction' = 'up' GROUP BY 1`)
    t.equal(applied.rows.length, revisions, `${schema}: every revision in the audit log`)
    t.ok(applied.rows.every((row) => row.times === 1), `${schema}: each applied exactly once`)
  }
  await waitFor(async () => {
    const { rows } = await knex.raw<{ rows: Array<{ held: number }> }>(
      "SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
    return rows[0]?.held === 0
  }, 10_000)
  t.pass('no advisory lock is held once the rollout is over')
})
