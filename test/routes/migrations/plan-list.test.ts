import t from 'tap'
import { bearer, buildTestApp } from '../../helpers/app.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'

interface Plan { id: string, approval: null | { approvedBy: string }, summary: { errors: number } }

const url = await createTestDatabase(t, 'plan_list')
const app = await buildTestApp(t, url)
const db = testKnex(t, url)

async function list (query: string, headers: Record<string, string> = bearer('read')) {
  return app.inject({ url: `/migrations/plans${query}`, headers })
}
async function plan (target: string): Promise<Plan> {
  const response = await app.inject({ method: 'POST', url: '/migrations/plan', headers: bearer('migrate'), payload: { target } })
  if (response.statusCode !== 201) throw new Error(`POST /migrations/plan answered ${response.statusCode}: ${response.body}`)
  return response.json() as Plan
}

t.test('before any plan was made: none, and nothing created to say so', async (t) => {
  const response = await list('?status=pending')
  t.equal(response.statusCode, 200)
  t.same(response.json(), { plans: [] })
  t.notOk((await db.raw("SELECT to_regclass('aip_schema_plans') IS NOT NULL AS found")).rows[0].found, 'no plans table made by a read')
})

t.test('status=pending lists the plans not approved yet, newest first; approved ones leave it', async (t) => {
  const older = await plan('+1')
  const newer = await plan('head')
  const pending = (await list('?status=pending')).json().plans as Plan[]
  t.same(pending.map((entry) => entry.id), [newer.id, older.id])
  t.ok(pending.every((entry) => entry.approval === null))

  const approved = await app.inject({ method: 'POST', url: `/migrations/plans/${older.id}/approve`, headers: bearer('admin'), payload: older.summary.errors > 0 ? { override: 'a test database' } : {} })
  t.equal(approved.statusCode, 200)
  t.same(((await list('?status=pending')).json().plans as Plan[]).map((entry) => entry.id), [newer.id])
  t.same(((await list('?status=approved')).json().plans as Plan[]).map((entry) => [entry.id, entry.approval?.approvedBy]), [[older.id, 'admin']])
  t.same(((await list('')).json().plans as Plan[]).map((entry) => entry.id), [newer.id, older.id], 'every plan without status')
  t.same(((await list('?limit=1')).json().plans as Plan[]).map((entry) => entry.id), [newer.id], 'limit caps the list')
})

t.test('a status, limit or parameter outside the grammar is a 400 validation-failed', async (t) => {
  for (const query of ['?status=approvedish', '?limit=0', '?limit=501', '?other=1']) {
    const response = await list(query)
    t.equal(response.statusCode, 400, query)
    t.equal(response.json().type, 'validation-failed', query)
  }
})

t.test('listing plans needs a token', async (t) => {
  t.equal((await list('?status=pending', {})).statusCode, 401)
})
