import t, { type Test } from 'tap'
import { bearer } from '../helpers/app.js'
import { buildDataApp, createParents } from '../helpers/data.js'

// What the hostile-input run found answering 500 or plain JSON, pinned one by one.
const { app } = await buildDataApp(t, 'hostile_regressions')
const { userId } = await createParents(app)

function problemOf (t: Test, res: { headers: Record<string, unknown>, json: () => unknown }): { type: string, status: number, field?: string, detail: string } {
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  return res.json() as { type: string, status: number, field?: string, detail: string }
}

t.test('U+0000, which PostgreSQL cannot store, is a 400 naming the field, wherever it comes', async (t) => {
  const inName = await app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email: 'nul@example.com', name: 'a\u0000b' } })
  t.equal(inName.statusCode, 400)
  t.match(problemOf(t, inName), { type: 'validation-failed', field: 'body.name' })

  const inKey = await app.inject({ method: 'POST', url: '/datasets', headers: bearer('write'), payload: { userId, name: 'nul', columnsInfo: { ok: [{ 'bad\u0000key': 1 }] } } })
  t.equal(inKey.statusCode, 400)
  t.match(problemOf(t, inKey), { field: 'body.columnsInfo.ok.0.bad\u0000key' })

  const inQuery = await app.inject({ url: '/model-runs?modelType=a%00b', headers: bearer('read') })
  t.equal(inQuery.statusCode, 400)
  t.match(problemOf(t, inQuery), { field: 'querystring.modelType' })

  const fine = await app.inject({ method: 'POST', url: '/users', headers: bearer('write'), payload: { email: 'escaped@example.com', name: 'a\\u0000b' } })
  t.equal(fine.statusCode, 201, 'the six characters \\u0000 are only text')
})

t.test('a path the router refuses is a problem too', async (t) => {
  const badEncoding = await app.inject({ url: '/users/%E0%A4%A', headers: bearer('read') })
  t.equal(badEncoding.statusCode, 400)
  t.match(problemOf(t, badEncoding), { type: 'bad-url', status: 400 })

  const longParam = await app.inject({ url: `/users/${'x'.repeat(1000)}`, headers: bearer('read') })
  t.equal(longParam.statusCode, 414)
  t.match(problemOf(t, longParam), { type: 'uri-too-long', status: 414 })
  t.ok(longParam.body.length < 1000, 'the path is not echoed back')
})

t.test('JSON nested far deeper than any stack is a 400, not a 500', async (t) => {
  const depth = 100_000
  const res = await app.inject({
    method: 'POST',
    url: '/datasets',
    headers: { ...bearer('write'), 'content-type': 'application/json' },
    payload: `{"userId":"${userId}","name":"deep","columnsInfo":${'['.repeat(depth)}${']'.repeat(depth)}}`,
  })
  t.equal(res.statusCode, 400)
  t.match(problemOf(t, res), { type: 'validation-failed', field: /^body\.columnsInfo(\.0)+$/, detail: /must not nest deeper than 100 levels/ })

  const shallow = await app.inject({ method: 'POST', url: '/datasets', headers: bearer('write'), payload: { userId, name: 'nested', columnsInfo: JSON.parse(`${'['.repeat(98)}${']'.repeat(98)}`) } })
  t.equal(shallow.statusCode, 201, '99 levels, the field itself included, are stored')
})
