import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase } from '../../helpers/database.js'
import { shippedRevisions } from '../../helpers/shipped.js'

const url = await createTestDatabase(t, 'audit_history')
const app = await buildTestApp(t, url)
const get = (path: string) => app.inject({ url: path, headers: bearer('read') })
const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
if (upgraded.statusCode !== 200) throw new Error(`upgrade failed: ${upgraded.body}`)

t.test("an operation's steps come without their SQL unless asked for", async (t) => {
  const [listed] = (await get('/migrations/operations?limit=1')).json().operations
  t.match(listed, { status: 'succeeded', stepsDone: shippedRevisions.length, stepsTotal: shippedRevisions.length })
  t.ok(listed.steps.every((step: object) => !('sql' in step)), 'listed without SQL')
  const plain = (await get(`/migrations/operations/${listed.id}`)).json()
  t.same(plain.steps.map((step: { revision: string }) => step.revision), shippedRevisions)
  t.ok(plain.steps.every((step: object) => !('sql' in step)), 'read without SQL')
  t.ok(plain.steps.every((step: { tries: number, resumed: boolean }) => step.tries === 1 && !step.resumed))
  const withSql = (await get(`/migrations/operations/${listed.id}?include=sql`)).json()
  t.same(withSql.steps.map((step: { sql: string[] }) => step.sql), upgraded.json().steps.map((step: { sql: string[] }) => step.sql), 'the SQL each step sent')
  const bad = await get(`/migrations/operations/${listed.id}?include=everything`)
  t.equal(bad.statusCode, 400)
  t.match(bad.headers['content-type'], /^application\/problem\+json/)
})

t.test('a no-op upgrade is an operation of no steps, finished', async (t) => {
  await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } })
  const [latest] = (await get('/migrations/operations?limit=1')).json().operations
  t.match(latest, { status: 'succeeded', steps: [], stepsDone: 0, stepsTotal: 0 })
})

t.test('the history is paged with limit and cursor, newest first', async (t) => {
  const whole = (await get('/migrations/history')).json()
  t.equal(whole.nextCursor, null, 'without limit: every revision, one page')
  t.same(whole.revisions.map((entry: { revision: string }) => entry.revision), [...shippedRevisions].reverse())
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page: { revisions: Array<{ revision: string }>, nextCursor: string | null } = (await get(`/migrations/history?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)).json()
    t.ok(page.revisions.length <= 2)
    seen.push(...page.revisions.map((entry) => entry.revision))
    cursor = page.nextCursor
    pages += 1
  } while (cursor !== null && pages < 100)
  t.same(seen, [...shippedRevisions].reverse(), 'the pages together are the whole history, in order')
  t.equal(pages, Math.ceil(shippedRevisions.length / 2))
  for (const cursor of ['not-a-cursor', Buffer.from(JSON.stringify({ after: 'ffffffffffff' })).toString('base64url')]) {
    const bad = await get(`/migrations/history?limit=2&cursor=${cursor}`)
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().type, 'invalid-cursor')
  }
  t.equal((await get('/migrations/history?limit=0')).statusCode, 400)
})
