import t from 'tap'
import { bearer } from '../../helpers/app.js'
import { buildDataApp, missingId, post } from '../../helpers/data.js'

const { app, db } = await buildDataApp(t, 'parents')

const get = (url: string) => app.inject({ url, headers: bearer('read') })
const create = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: bearer('write'), payload })

t.test('users: create with and without a password; the hash never leaves', async (t) => {
  const res = await create('/users', { email: 'ada@example.com', name: 'ada', password: 'correct horse battery' })
  t.equal(res.statusCode, 201)
  const user = res.json()
  t.equal(res.headers.location, `/users/${user.id}`)
  t.match(user, { email: 'ada@example.com', name: 'ada', isActive: true })
  t.match(user.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
  t.same(Object.keys(user).sort(), ['createdAt', 'email', 'id', 'isActive', 'name', 'updatedAt'])
  const stored = await db('users').where({ id: user.id }).first('username', 'hashed_password')
  t.equal(stored.username, 'ada', 'name is the username')
  t.match(stored.hashed_password, /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/)
  t.notMatch(stored.hashed_password, /correct horse/)

  const bare = await post(app, '/users', { email: 'bob@example.com', name: 'bob' })
  t.equal((await db('users').where({ id: bare.id }).first('hashed_password')).hashed_password, '!', 'no password: the unusable marker')

  const fetched = await get(`/users/${user.id}`)
  t.equal(fetched.statusCode, 200)
  t.same(fetched.json(), user)
  t.notOk(JSON.stringify((await get('/users')).json()).includes('scrypt'), 'the list carries no hash')
})

t.test('users: duplicates are 409 naming the field; bad bodies 400', async (t) => {
  const email = await create('/users', { email: 'ada@example.com', name: 'ada2' })
  t.equal(email.statusCode, 409)
  t.match(email.json(), { type: 'duplicate', field: 'body.email' })
  const name = await create('/users', { email: 'ada2@example.com', name: 'ada' })
  t.equal(name.statusCode, 409)
  t.match(name.json(), { type: 'duplicate', field: 'body.name' })
  const cases: Array<[object, string]> = [
    [{ name: 'x' }, 'body.email'],
    [{ email: 'not-an-email', name: 'x' }, 'body.email'],
    [{ email: 'x@example.com' }, 'body.name'],
    [{ email: 'x@example.com', name: 'x', password: 'short' }, 'body.password'],
    [{ email: 'x@example.com', name: 'x', admin: true }, 'body.admin'],
  ]
  for (const [payload, field] of cases) {
    const res = await create('/users', payload)
    t.equal(res.statusCode, 400, field)
    t.equal(res.json().field, field)
  }
})

t.test('datasets: file path optional (null until attached), parent must exist', async (t) => {
  const user = await post(app, '/users', { email: 'carol@example.com', name: 'carol' })
  const bare = await create('/datasets', { userId: user.id, name: 'iris' })
  t.equal(bare.statusCode, 201)
  t.equal(bare.headers.location, `/datasets/${bare.json().id}`)
  t.match(bare.json(), { userId: user.id, name: 'iris', filePath: null, description: null, fileSize: null, columnsInfo: null })
  const full = await post(app, '/datasets', {
    userId: user.id, name: 'titanic', description: 'passengers', filePath: '/data/titanic.csv', fileSize: 61194, rowCount: 891, columnCount: 12, columnsInfo: [{ name: 'age', dtype: 'float' }],
  })
  t.match(full, { filePath: '/data/titanic.csv', fileSize: 61194, rowCount: 891, columnCount: 12, columnsInfo: [{ name: 'age', dtype: 'float' }] })
  t.same((await get(`/datasets/${full.id}`)).json(), full)

  const orphan = await create('/datasets', { userId: missingId, name: 'x' })
  t.equal(orphan.statusCode, 422)
  t.match(orphan.json(), { type: 'parent-not-found', field: 'body.userId' })
  t.equal((await create('/datasets', { userId: user.id, name: 'x', filePath: '' })).json().field, 'body.filePath')
  t.equal((await create('/datasets', { userId: 'nope', name: 'x' })).statusCode, 400)

  const mine = (await get(`/datasets?userId=${user.id}`)).json()
  t.same(mine.items.map((d: { id: string }) => d.id), [full.id, bare.json().id], "newest first, one user's")
  t.equal(mine.nextCursor, null)
})

t.test('experiments: dataset required, both parents must exist', async (t) => {
  const user = await post(app, '/users', { email: 'dan@example.com', name: 'dan' })
  const dataset = await post(app, '/datasets', { userId: user.id, name: 'wine' })
  const res = await create('/experiments', { userId: user.id, datasetId: dataset.id, name: 'baseline', problemType: 'classification', targetColumn: 'quality' })
  t.equal(res.statusCode, 201)
  const experiment = res.json()
  t.equal(res.headers.location, `/experiments/${experiment.id}`)
  t.match(experiment, { userId: user.id, datasetId: dataset.id, name: 'baseline', problemType: 'classification', targetColumn: 'quality', description: null })
  t.same((await get(`/experiments/${experiment.id}`)).json(), experiment)

  const noDataset = await create('/experiments', { userId: user.id, name: 'x' })
  t.equal(noDataset.statusCode, 400)
  t.equal(noDataset.json().field, 'body.datasetId')
  const badDataset = await create('/experiments', { userId: user.id, datasetId: missingId, name: 'x' })
  t.equal(badDataset.statusCode, 422)
  t.equal(badDataset.json().field, 'body.datasetId')
  const badUser = await create('/experiments', { userId: missingId, datasetId: dataset.id, name: 'x' })
  t.equal(badUser.statusCode, 422)
  t.equal(badUser.json().field, 'body.userId')

  t.same((await get(`/experiments?datasetId=${dataset.id}`)).json().items.map((e: { id: string }) => e.id), [experiment.id])
  t.same((await get(`/experiments?userId=${missingId}`)).json(), { items: [], nextCursor: null })
})

t.test('unknown ids 404, malformed ids 400, bad queries 400', async (t) => {
  for (const area of ['users', 'datasets', 'experiments']) {
    const missing = await get(`/${area}/${missingId}`)
    t.equal(missing.statusCode, 404, `${area}: unknown`)
    t.match(missing.headers['content-type'], /^application\/problem\+json/)
    t.equal(missing.json().type, 'not-found')
    t.equal((await get(`/${area}/12`)).statusCode, 400, `${area}: malformed`)
    t.equal((await get(`/${area}?limit=501`)).json().field, 'querystring.limit')
    t.equal((await get(`/${area}?sort=name`)).statusCode, 400, `${area}: unknown query parameter`)
  }
})

t.test('lists page with a cursor', async (t) => {
  const first = (await get('/users?limit=2')).json()
  t.equal(first.items.length, 2)
  t.type(first.nextCursor, 'string')
  const rest = (await get(`/users?limit=50&cursor=${first.nextCursor}`)).json()
  const all = (await get('/users')).json()
  t.same([...first.items, ...rest.items], all.items)
  t.equal(rest.nextCursor, null)
})
