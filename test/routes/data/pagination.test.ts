import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, createParents, post } from '../../helpers/data.js'

const { app, db } = await buildDataApp(t, 'pagination')
const { experimentId } = await createParents(app)

const get = (url: string) => app.inject({ url, headers: bearer('read') })
const cursorOf = (key: object) => Buffer.from(JSON.stringify(key)).toString('base64url')

// Microseconds apart and in ties: a cursor rounded to milliseconds, or one without the id, would skip or repeat rows.
await db.raw(`INSERT INTO model_runs (experiment_id, model_type, created_at)
  SELECT ?, 'seed-' || g, now() - (g % 7) * interval '3 microseconds' FROM generate_series(1, 1000) AS g`, [experimentId])
const seeded = new Set<string>(await db('model_runs').where({ experiment_id: experimentId }).pluck('id'))

t.test('1,000 runs, paged while new runs arrive: each seeded run exactly once', async (t) => {
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`
    const res = await get(`/model-runs?experimentId=${experimentId}&limit=64${query}`)
    t.equal(res.statusCode, 200)
    const page: { items: Array<{ id: string }>, nextCursor: string | null } = res.json()
    seen.push(...page.items.map((run) => run.id))
    cursor = page.nextCursor
    pages += 1
    await post(app, '/model-runs', { experimentId, modelType: `arrived-${pages}` })
  } while (cursor !== null)
  t.equal(pages, 16, '15 full pages and a last one of 40')
  t.equal(seen.length, 1000, 'the runs that arrived are newer than the cursor and never show up')
  t.equal(new Set(seen).size, 1000, 'no run twice')
  t.ok(seen.every((id) => seeded.has(id)), 'only seeded runs')
})

t.test('newest first, ties broken by id, the same order as SQL', async (t) => {
  const expected = await db('model_runs').where({ experiment_id: experimentId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(500).pluck('id')
  const res = await get(`/model-runs?experimentId=${experimentId}&limit=500`)
  t.same(res.json().items.map((run: { id: string }) => run.id), expected)
})

t.test('limit: default 50, at most 500, at least 1', async (t) => {
  t.equal((await get('/model-runs')).json().items.length, 50)
  t.equal((await get('/model-runs?limit=500')).json().items.length, 500)
  for (const limit of ['0', '501', 'ten', '1.5']) {
    const res = await get(`/model-runs?limit=${limit}`)
    t.equal(res.statusCode, 400, `limit=${limit}`)
    t.equal(res.json().field, 'querystring.limit')
  }
})

t.test('a cursor this list did not issue is 400, never a SQL error', async (t) => {
  const issued: string = (await get('/model-runs?limit=1')).json().nextCursor
  const key = JSON.parse(Buffer.from(issued, 'base64url').toString())
  const bad: Record<string, string> = {
    garbage: '!!!not-base64!!!',
    'not JSON': Buffer.from('hello').toString('base64url'),
    'a JSON array': cursorOf([key.createdAt, key.id]),
    'an extra key': cursorOf({ ...key, offset: 10 }),
    'not a uuid': cursorOf({ ...key, id: 'x' }),
    'milliseconds only': cursorOf({ ...key, createdAt: '2025-01-01T00:00:00.000Z' }),
    'a day that does not exist': cursorOf({ ...key, createdAt: '2025-02-30T00:00:00.000000Z' }),
    'a step cursor': cursorOf({ datasetId: key.id, order: 1, id: key.id }),
    'trailing bytes': `${issued}AA`,
  }
  for (const [name, cursor] of Object.entries(bad)) {
    const res = await get(`/model-runs?cursor=${encodeURIComponent(cursor)}`)
    t.equal(res.statusCode, 400, name)
    t.match(res.json(), { type: 'invalid-cursor', field: 'querystring.cursor' }, name)
  }
  t.equal((await get(`/model-runs?cursor=${issued}`)).statusCode, 200, 'the issued one works')
})
