import t from 'tap'
import { bannerLines, databaseOf, schemaOf, type StartBanner } from '../../src/logging/banner.js'
import type { SchemaStatus } from '../../src/migrator/index.js'

const atHead: SchemaStatus = { current: ['b'], heads: ['b'], upToDate: true, pending: [], ahead: [], breaking: [], interrupted: null }

t.test('a connection string gives its host, port and database, never its user or password', async (t) => {
  t.same(databaseOf('postgres://app:s3cret@db.example.com:6432/playground?sslmode=require'), { embedded: false, host: 'db.example.com', port: 6432, database: 'playground' })
  t.same(databaseOf('postgresql://app:s3cret@db.example.com/play%20ground'), { embedded: false, host: 'db.example.com', port: 5432, database: 'play ground' })
  t.same(databaseOf('postgres:///playground?host=/var/run/postgresql'), { embedded: false, host: '/var/run/postgresql', port: 5432, database: 'playground' })
  t.same(databaseOf('postgres://app:s3cret@[::1]:5433'), { embedded: false, host: '[::1]', port: 5433, database: '(the user\'s default)' })
  t.notOk(JSON.stringify(databaseOf('postgres://app:s3cret@db/x')).includes('s3cret'))
})

t.test('the schema state: interrupted before ahead before pending before at head', async (t) => {
  t.same(schemaOf(atHead), { state: 'at-head', heads: ['b'] })
  t.same(schemaOf({ ...atHead, current: [], upToDate: false, pending: ['a', 'b'] }), { state: 'pending', current: [], heads: ['b'], pending: 2 })
  t.same(schemaOf({ ...atHead, current: ['c'], ahead: ['c'] }), { state: 'ahead', current: ['c'], ahead: ['c'] })
  t.same(schemaOf({ ...atHead, pending: ['b'], interrupted: { revision: 'b', direction: 'up', operation: 'op-1', startedAt: '2026-01-01T00:00:00Z' } }),
    { state: 'interrupted', revision: 'b', direction: 'up', operation: 'op-1' })
})

t.test('one line per item, labels aligned; the status page and the migration database only when there is one', async (t) => {
  const banner: StartBanner = {
    url: 'http://127.0.0.1:3000',
    docs: 'http://127.0.0.1:3000/docs',
    statusPage: null,
    database: { embedded: true, dataDir: '/srv/data' },
    migrationDatabase: null,
    schema: { state: 'at-head', heads: ['b'] },
    auth: { tokenRequired: false, scopes: [] },
    stop: 'Ctrl+C',
  }
  t.same(bannerLines(banner), [
    'url       http://127.0.0.1:3000',
    'docs      http://127.0.0.1:3000/docs',
    'database  embedded PostgreSQL in /srv/data',
    'schema    at head b',
    'token     not needed',
    'stop      Ctrl+C',
  ])
  const full = bannerLines({
    ...banner,
    statusPage: 'http://127.0.0.1:3000/',
    database: { embedded: false, host: 'bouncer', port: 6432, database: 'app' },
    migrationDatabase: { embedded: false, host: 'db', port: 5432, database: 'app' },
    auth: { tokenRequired: true, scopes: ['read', 'admin'] },
  })
  t.same(full.slice(2, 5), ['status page     http://127.0.0.1:3000/', 'database        bouncer:6432/app', 'migrations via  db:5432/app'])
  t.equal(full[6], 'token           needed (Authorization: Bearer <token>); scopes configured: read, admin')
})

t.test('each schema state says what it means', async (t) => {
  const line = (schema: StartBanner['schema']) => bannerLines({ url: 'u', docs: 'd', statusPage: null, database: { embedded: true, dataDir: '/d' }, migrationDatabase: null, schema, auth: { tokenRequired: false, scopes: [] }, stop: 's' })[3]
  t.equal(line({ state: 'pending', current: [], heads: ['b'], pending: 2 }), 'schema    2 pending: at base, head b (POST /migrations/upgrade or aip-schema upgrade)')
  t.equal(line({ state: 'ahead', current: ['c'], ahead: ['c'] }), 'schema    ahead of this release: at c, of which c this release does not have')
  t.equal(line({ state: 'interrupted', revision: 'b', direction: 'down', operation: 'op-1' }), 'schema    interrupted: b (down) was cut off in operation op-1')
  t.equal(line({ state: 'unreachable' }), 'schema    the database cannot be reached yet: not ready, retrying')
})
