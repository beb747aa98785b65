import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Knex } from 'knex'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { statementsDuring } from '../../helpers/statements.js'
import { syntheticId, syntheticRevisionsDir } from '../../helpers/synthetic-revisions.js'
import { commitsIn, logVersionWrites, versionWrites } from '../../helpers/version-writes.js'

interface Teardown { teardown (fn: () => unknown): void }

/** A database whose `alembic_version` logs every row written to it, and an app on it. */
async function engineOn (t: Teardown, name: string, n: number, groupMs?: number) {
  const url = await createTestDatabase(t, name)
  const app = await buildTestApp(t, url, { migrationsDir: await syntheticRevisionsDir(t, n), groupMs })
  const db = testKnex(t, url)
  await logVersionWrites(db)
  return { app, db, ids: Array.from({ length: n }, (_, offset) => syntheticId(offset + 1)) }
}

async function migrate (app: FastifyInstance, verb: 'upgrade' | 'downgrade', target: string) {
  const res = await app.inject({ method: 'POST', url: `/migrations/${verb}`, headers: bearer(verb === 'upgrade' ? 'migrate' : 'admin'), payload: { target } })
  if (res.statusCode !== 200) throw new Error(`${verb} ${target}: ${res.statusCode} ${res.body}`)
  const [latest] = (await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  const operation = await app.inject({ url: `/migrations/operations/${latest.id as string}`, headers: bearer('read') })
  return { result: res.json(), operation: operation.json() }
}

const count = async (db: Knex, table: string) => Number((await db(table).count({ n: '*' }))[0]?.n)

const ordered = (list: string[], within: string[]) => list.every((id, index) => index === 0 || within.indexOf(id) > within.indexOf(list[index - 1] as string))

t.test('1,000 revisions, sharing transactions (the default)', async (t) => {
  const n = 1000
  const { app, db, ids } = await engineOn(t, 'many_revisions', n)

  await t.test('base → head: fewer commits than steps, each leaving a revision of the line, every step in the audit log', async (t) => {
    const { result, operation } = await migrate(app, 'upgrade', 'head')
    t.equal(result.steps.length, n)
    t.same(result.to, app.migrator.graph.heads)
    const { reached, chained } = commitsIn(await versionWrites(db))
    t.ok(chained, 'each commit replaces the revision the one before reached, and writes nothing else')
    t.ok(reached.length < n / 2, `${reached.length} commits for ${n} steps`)
    t.ok(ordered(reached, ids), 'in the order of the line')
    t.equal(reached.at(-1), ids.at(-1), 'the last reaches head')
    t.same(await db('alembic_version').pluck('version_num'), app.migrator.graph.heads)
    t.equal(await count(db, 'aip_schema_revisions'), n, 'every checksum pinned')
    t.same(await db('knex_migrations').orderBy('batch').pluck('name'), ids, 'every revision listed, a batch each, in order')
    t.match(operation, { kind: 'upgrade', status: 'succeeded', to: app.migrator.graph.heads, stepsDone: n, stepsTotal: n })
    t.same(operation.steps.map((step: { revision: string, direction: string }) => [step.revision, step.direction]), ids.map((id) => [id, 'up']), 'the audit log holds every step')
  })

  await t.test('at head, the upgrade is the one-statement no-op', async (t) => {
    const before = await count(db, 'aip_schema_operations')
    const { result, operation } = await migrate(app, 'upgrade', 'head')
    t.same(result, { from: app.migrator.graph.heads, to: app.migrator.graph.heads, dryRun: false, steps: [], ahead: [] })
    t.match(operation, { status: 'succeeded', steps: [] })
    t.equal(await count(db, 'aip_schema_operations'), before + 1)
    t.same(await versionWrites(db), [], 'the version is not written')
  })

  await t.test(`the no-op upgrade sends the same one statement, byte for byte, at 4 revisions as at ${n}`, async (t) => {
    const small = (await engineOn(t, 'few_revisions', 4)).app
    const upgrade = (on: FastifyInstance) => on.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
    t.equal((await upgrade(small)).statusCode, 200)
    // The second is the warm one: the first at head also sets the bookkeeping up in this process.
    await upgrade(small)
    await upgrade(app)
    const few = await statementsDuring(() => upgrade(small))
    const many = await statementsDuring(() => upgrade(app))
    t.equal(few.length, 1, 'one statement at 4 revisions')
    t.equal(many.length, 1, `one statement at ${n}`)
    t.equal(many[0]?.text, few[0]?.text, 'the same text')
    t.equal(many[0]?.bytes, few[0]?.bytes, 'the same bytes, values included')
    t.ok((many[0]?.bytes ?? Infinity) < 4096, 'small')
  })

  await t.test('head → base: fewer commits than steps, every step in the audit log', async (t) => {
    const { result, operation } = await migrate(app, 'downgrade', 'base')
    t.equal(result.steps.length, n)
    t.same(result.to, [])
    const writes = await versionWrites(db)
    const inserted = writes.filter((write) => write.op === 'INSERT').map((write) => write.version_num)
    const deleted = writes.filter((write) => write.op === 'DELETE').map((write) => write.version_num)
    t.equal(deleted[0], ids.at(-1), 'the first commit takes head out')
    t.same(deleted.slice(1), inserted, 'each later one takes out what the one before left')
    t.ok(ordered(inserted, [...ids].reverse()), 'down the line, in order')
    t.equal(writes.length, inserted.length + deleted.length, 'nothing else')
    t.ok(deleted.length < n / 2, `${deleted.length} commits for ${n} steps`)
    t.equal(await count(db, 'alembic_version'), 0)
    t.equal(await count(db, 'aip_schema_revisions'), 0, 'every checksum unpinned')
    t.equal(await count(db, 'knex_migrations'), 0, 'every revision unlisted')
    t.same((await db.raw("SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 't\\_%'")).rows[0].n, 0, 'every table dropped')
    t.match(operation, { kind: 'downgrade', status: 'succeeded', to: [], stepsDone: n })
    t.same(operation.steps.map((step: { revision: string, direction: string }) => [step.revision, step.direction]), [...ids].reverse().map((id) => [id, 'down']), 'the audit log holds every step')
  })
  await t.test('polled while it runs, an async upgrade shows how far it is', async (t) => {
    const submitted = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head', async: true } })
    t.equal(submitted.statusCode, 202)
    const seen: Array<{ status: string, stepsDone: number, stepsTotal: number | null, steps: number }> = []
    for (;;) {
      const polled = (await app.inject({ url: submitted.headers.location as string, headers: bearer('read') })).json()
      seen.push({ status: polled.status, stepsDone: polled.stepsDone, stepsTotal: polled.stepsTotal, steps: polled.steps.length })
      if (polled.status === 'succeeded' || polled.status === 'failed') break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    t.match(seen.at(-1), { status: 'succeeded', stepsDone: n, stepsTotal: n, steps: n })
    const midway = seen.filter((poll) => poll.status === 'running' && poll.stepsDone > 0 && poll.stepsDone < n)
    t.ok(midway.length > 0, `seen part-way ${midway.length} times in ${seen.length} polls`)
    t.ok(midway.every((poll) => poll.stepsTotal === n && poll.steps === poll.stepsDone), 'with the total, and the steps done listed')
    t.ok(seen.every((poll, index) => index === 0 || poll.stepsDone >= (seen[index - 1]?.stepsDone ?? 0)), 'never going back')
  })
})

t.test('one transaction per revision (MIGRATION_GROUP_MS=0): exactly one version row written per step', async (t) => {
  const n = 100
  const { app, db, ids } = await engineOn(t, 'revision_per_transaction', n, 0)

  await t.test('base → head', async (t) => {
    const { result, operation } = await migrate(app, 'upgrade', 'head')
    t.equal(result.steps.length, n)
    const writes = await versionWrites(db)
    t.same(writes.filter((write) => write.op === 'INSERT').map((write) => write.version_num), ids, 'each step inserts its own revision, in order')
    t.same(writes.filter((write) => write.op === 'DELETE').map((write) => write.version_num), ids.slice(0, -1), 'and deletes the one it revises')
    t.equal(writes.length, 2 * n - 1, 'nothing else')
    t.equal(await count(db, 'knex_migrations'), n, 'every revision listed')
    t.same(operation.steps.map((step: { revision: string }) => step.revision), ids, 'the audit log holds every step')
  })

  await t.test('head → base', async (t) => {
    const { result, operation } = await migrate(app, 'downgrade', 'base')
    t.equal(result.steps.length, n)
    const writes = await versionWrites(db)
    t.same(writes.filter((write) => write.op === 'DELETE').map((write) => write.version_num), [...ids].reverse(), 'each step deletes its own revision, newest first')
    t.same(writes.filter((write) => write.op === 'INSERT').map((write) => write.version_num), [...ids].reverse().slice(1), 'and inserts its parent')
    t.equal(writes.length, 2 * n - 1, 'nothing else')
    t.equal(await count(db, 'knex_migrations'), 0, 'every revision unlisted')
    t.same(operation.steps.map((step: { revision: string }) => step.revision), [...ids].reverse(), 'the audit log holds every step')
  })
})
