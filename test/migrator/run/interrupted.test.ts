import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { shipped } from '../../helpers/shipped.js'
import { startServer } from '../../helpers/server.js'
import { waitFor } from '../../helpers/wait.js'

t.test('an online revision cut off by a killed process shows as interrupted until an upgrade resumes it', async (t) => {
  const online = shipped.all().find((revision) => !revision.transactional)
  if (online === undefined) throw new Error('no non-transactional revision to cut off')
  const [before] = online.downRevisions
  if (before === undefined) throw new Error(`${online.revision} has no parent`)
  const url = await createTestDatabase(t, 'interrupted')
  const db = testKnex(t, url)
  const server = await startServer({ DATABASE_URL: url, API_TOKENS: 'admin=cut-admin', MIGRATION_LOCK_TIMEOUT_MS: '600000' })
  t.teardown(() => server.stop('SIGKILL'))
  const upgrade = (target: string) => fetch(`${server.baseUrl}/migrations/upgrade`, {
    method: 'POST',
    headers: { authorization: 'Bearer cut-admin', 'content-type': 'application/json' },
    body: JSON.stringify({ target }),
  })
  t.equal((await upgrade(before)).status, 200)

  // Every table the online revision alters is held, so its first statement waits: the process is killed then.
  const blocker = await db.client.acquireConnection()
  await db.raw('BEGIN').connection(blocker)
  await db.raw('LOCK TABLE model_runs, preprocessing_steps IN ACCESS EXCLUSIVE MODE').connection(blocker)
  const pending = upgrade(online.revision).catch(() => null)
  await waitFor(async () => (await db('aip_schema_interrupted').count({ n: '*' }))[0]?.n === '1')
  await waitFor(async () => {
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name LIKE 'aip-schema|%'")
    return rows[0].n === 1
  })
  t.equal(await server.stop('SIGKILL'), null, 'killed part-way through the online revision')
  await pending
  await db.raw('ROLLBACK').connection(blocker)
  await db.client.releaseConnection(blocker)
  await waitFor(async () => {
    const { rows } = await db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'aip-schema|%'")
    return rows[0].n === 0
  })
  const cutOff = await db('aip_schema_operations').where({ target: online.revision }).first()
  t.equal(cutOff.status, 'running', 'nothing closed the operation of the killed process')

  // A new process: at start-up it closes the cut-off operation, and says the revision is interrupted.
  const app = await buildTestApp(t, url)
  await waitFor(async () => (await db('aip_schema_operations').where({ id: cutOff.id }).first()).status === 'failed')
  const closed = await db('aip_schema_operations').where({ id: cutOff.id }).first()
  t.match(closed.error, { kind: 'interrupted', revision: online.revision }, 'closed as interrupted at start-up')
  await app.schemaState.refresh()
  const interrupted = { revision: online.revision, direction: 'up', operation: cutOff.id, startedAt: String }
  const current = (await app.inject({ url: '/migrations/current', headers: bearer('read') })).json()
  t.match(current, { current: [before], interrupted })
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503, 'not ready: the revision is not applied')
  t.match(ready.json().schema, { interrupted })

  const resumed = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: online.revision } })
  t.equal(resumed.statusCode, 200, 'upgraded')
  t.match(resumed.json().steps, [{ revision: online.revision, resumed: true }], 'the step says it resumed the cut-off revision')
  await app.schemaState.refresh()
  t.equal((await app.inject({ url: '/migrations/current', headers: bearer('read') })).json().interrupted, null, 'no longer interrupted')
  t.equal((await db('aip_schema_interrupted').count({ n: '*' }))[0]?.n, '0')
})
