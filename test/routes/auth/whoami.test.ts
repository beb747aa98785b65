import t from 'tap'
import { bearer, buildTestApp, tokens } from '../../helpers/app.js'
import { createTestDatabase } from '../../helpers/database.js'

const url = await createTestDatabase(t, 'whoami')
const app = await buildTestApp(t, url)

t.test("each token learns its own scope, and nothing of the token's secret", async (t) => {
  for (const scope of ['read', 'write', 'migrate', 'admin'] as const) {
    const response = await app.inject({ url: '/auth/whoami', headers: bearer(scope) })
    t.equal(response.statusCode, 200, scope)
    t.same(response.json(), { scope, tokenRequired: true }, scope)
    t.notMatch(response.body, tokens[scope], 'the token is not echoed')
  }
})

t.test('no token or an unknown one: 401', async (t) => {
  t.equal((await app.inject({ url: '/auth/whoami' })).statusCode, 401)
  t.equal((await app.inject({ url: '/auth/whoami', headers: { authorization: 'Bearer unknown' } })).statusCode, 401)
})

t.test('with auth disabled every caller is admin and no token is required', async (t) => {
  const open = await buildTestApp(t, url, { authDisabled: true, instance: 'open' })
  t.same((await open.inject({ url: '/auth/whoami' })).json(), { scope: 'admin', tokenRequired: false })
})
