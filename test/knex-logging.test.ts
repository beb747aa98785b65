import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { bearer, tokens } from './helpers/app.js'
import { parseApiTokens } from '../src/auth/tokens.js'
import { freePort } from './helpers/server.js'

t.test("Knex's own warnings reach the app's JSON log, not the console", async (t) => {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const nobody = await freePort()
  const app = await buildApp({
    databaseUrl: `postgres://postgres@127.0.0.1:${nobody}/postgres`,
    logger: { level: 'warn', stream },
    config: {
      auth: { disabled: false, tokens: parseApiTokens(`read=${tokens.read}`) },
      lock: { waitMs: 1000, lockTimeoutMs: 1000 },
      fittedTransformerMaxBytes: 1024,
    },
  })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/migrations/history', headers: bearer('read') })
  t.equal(res.statusCode, 503, 'the dead database is a 503')
  const warning = lines.find((line) => line.msg === 'knex warning')
  t.ok(warning, 'the pool\'s connection error is a structured log entry')
  t.match(String(warning?.knex), /ECONNREFUSED|connect/, 'carrying what Knex said')
})
