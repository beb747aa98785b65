import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, missingId } from '../../helpers/data.js'

const { app } = await buildDataApp(t, 'data_auth')

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
const id = missingId
const routes: Array<[Method, string, 'read' | 'write']> = [
  ['POST', '/users', 'write'], ['GET', '/users', 'read'], ['GET', `/users/${id}`, 'read'],
  ['POST', '/datasets', 'write'], ['GET', '/datasets', 'read'], ['GET', `/datasets/${id}`, 'read'],
  ['POST', '/experiments', 'write'], ['GET', '/experiments', 'read'], ['GET', `/experiments/${id}`, 'read'],
  ['POST', '/model-runs', 'write'], ['GET', '/model-runs', 'read'], ['GET', `/model-runs/${id}`, 'read'],
  ['PATCH', `/model-runs/${id}`, 'write'], ['DELETE', `/model-runs/${id}`, 'write'],
  ['POST', '/preprocessing-steps', 'write'], ['GET', '/preprocessing-steps', 'read'], ['GET', `/preprocessing-steps/${id}`, 'read'],
  ['PATCH', `/preprocessing-steps/${id}`, 'write'], ['DELETE', `/preprocessing-steps/${id}`, 'write'],
  ['PUT', `/preprocessing-steps/${id}/fitted-transformer`, 'write'], ['GET', `/preprocessing-steps/${id}/fitted-transformer`, 'read'],
  ['DELETE', `/preprocessing-steps/${id}/fitted-transformer`, 'write'],
  ['POST', '/preprocessing-history', 'write'], ['GET', '/preprocessing-history', 'read'],
]

for (const [method, url, scope] of routes) {
  t.test(`${method} ${url.replace(id, '{id}')} needs ${scope}`, async (t) => {
    const none = await app.inject({ method, url })
    t.equal(none.statusCode, 401, 'no token')
    t.equal(none.headers['www-authenticate'], 'Bearer realm="aip-schema"')
    t.match(none.headers['content-type'], /^application\/problem\+json/)
    t.equal((await app.inject({ method, url, headers: { authorization: 'Bearer nope' } })).statusCode, 401, 'unknown token')
    if (scope === 'write') {
      const low = await app.inject({ method, url, headers: bearer('read') })
      t.equal(low.statusCode, 403, 'a read token on a write route')
      t.equal(low.json().requiredScope, 'write')
    }
    const enough = await app.inject({ method, url, headers: bearer(scope) })
    t.notOk([401, 403].includes(enough.statusCode), `a ${scope} token gets past auth (${enough.statusCode})`)
    const higher = await app.inject({ method, url, headers: bearer('admin') })
    t.notOk([401, 403].includes(higher.statusCode), 'a higher scope implies it')
  })
}
