import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { seedRevisions, shippedHead as head } from '../../helpers/shipped.js'
import { statementsDuring } from '../../helpers/statements.js'

const r3 = seedRevisions[2]
const headPrefix = head.slice(0, 4)

const url = await createTestDatabase(t, 'noop')
const app = await buildTestApp(t, url)
const db = testKnex(t, url)

function upgrade (payload: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload })
}
/** What the process sends to PostgreSQL while `work` runs: every query of every `pg` client, through Knex or not. */
async function queriesDuring (work: () => Promise<unknown>): Promise<string[]> {
  return (await statementsDuring(work)).map((statement) => statement.text)
}
async function operationCount (): Promise<number> {
  return Number((await db('aip_schema_operations').count({ n: '*' }))[0]?.n)
}

const first = await upgrade({ target: 'head' })
if (first.statusCode !== 200) throw new Error(`upgrade failed: ${first.body}`)

t.test('at head, an upgrade is one statement that both checks and records', async (t) => {
  for (const target of ['head', 'heads', head, headPrefix]) {
    let res = await upgrade({ target })
    const sent = await queriesDuring(async () => { res = await upgrade({ target }) })
    t.equal(sent.length, 1, `${target}: one round trip`)
    t.match(sent[0], /^WITH state AS/, 'the check-and-record statement')
    t.equal(res.statusCode, 200)
    t.same(res.json(), { from: [head], to: [head], dryRun: false, steps: [], ahead: [] })
  }
  const [latest] = (await app.inject({ url: '/migrations/operations?limit=1', headers: bearer('read') })).json().operations
  t.match(latest, { kind: 'upgrade', target: headPrefix, status: 'succeeded', from: [head], to: [head], steps: [], error: null, actor: 'migrate', dryRun: false })
  t.not(latest.finishedAt, null, 'recorded as finished')
})

t.test('a dry run at head still takes the full path and answers the same', async (t) => {
  const res = await upgrade({ target: 'head', dryRun: true })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { from: [head], to: [head], dryRun: true, steps: [], ahead: [] })
})

t.test('a changed checksum is never recorded as a no-op: 409, and no succeeded row', async (t) => {
  const original = await db('aip_schema_revisions').where({ revision: r3 }).first('checksum')
  await db('aip_schema_revisions').where({ revision: r3 }).update({ checksum: '0'.repeat(64) })
  t.teardown(() => db('aip_schema_revisions').where({ revision: r3 }).update(original))
  const before = await operationCount()
  const res = await upgrade({ target: 'head' })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { type: 'database-state-mismatch' })
  t.match(res.json().detail, new RegExp(r3))
  t.equal(await operationCount(), before)
})

t.test('an unknown revision beside the head is never recorded as a no-op', async (t) => {
  await db('alembic_version').insert({ version_num: 'ffffffffffff' })
  t.teardown(() => db('alembic_version').where({ version_num: 'ffffffffffff' }).delete())
  const before = await operationCount()
  const res = await upgrade({ target: 'head' })
  t.equal(res.statusCode, 409)
  t.match(res.json().detail, /ffffffffffff/)
  t.equal(await operationCount(), before)
})

t.test('below head the upgrade runs; a target past head is 400', async (t) => {
  t.equal((await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: '-1' } })).statusCode, 200)
  const res = await upgrade({ target: 'head' })
  t.equal(res.statusCode, 200)
  t.same(res.json().steps.map((step: { revision: string }) => step.revision), [head])
  const past = await upgrade({ target: '+1' })
  t.equal(past.statusCode, 400)
  t.equal(past.json().type, 'invalid-target')
})

t.test('a fresh process at head answers the no-op through the full path first', async (t) => {
  const other = await buildTestApp(t, url)
  const res = await other.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { from: [head], to: [head], dryRun: false, steps: [], ahead: [] })
})
