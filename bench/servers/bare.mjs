// The ceiling the service is held to: Fastify on the same Node with the service's logger
// settings, answering constants (probes, current) or sending the service's own SQL, captured
// from it, through a bare `pg` pool of the same size (data endpoints). No auth, no schemas,
// no plugins: whatever the service costs beyond this is its own.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import pg from 'pg'

const app = Fastify({
  logger: { level: process.env.LOG_LEVEL ?? 'info', redact: ['req.headers.authorization'] },
  genReqId: () => crypto.randomUUID(),
})

const heads = (process.env.BENCH_HEADS ?? '').split(',')
app.get('/health/live', async () => ({ status: 'ok' }))
app.get('/health/ready', async () => ({
  status: 'ready',
  database: { reachable: true },
  schema: { current: heads, heads, upToDate: true, pending: 0 },
}))
app.get('/migrations/current', async () => ({ current: heads, heads, upToDate: true, pending: [] }))

if (process.env.BENCH_SQL_FILE !== undefined) {
  const captured = JSON.parse(readFileSync(process.env.BENCH_SQL_FILE, 'utf8'))
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.BENCH_POOL_MAX ?? 10) })
  app.addHook('onClose', () => pool.end())
  const bind = (query, values) => query.sources.map((source) => values[source])

  // One filter per list request: the captured statements are named `<filter>.firstPage` and `<filter>.deepPage`.
  app.get('/model-runs', async (request) => {
    const limit = Number(request.query.limit ?? 50)
    const filter = request.query.status !== undefined ? 'status' : 'experimentId'
    const values = { [filter]: request.query[filter], fetch: limit + 1 }
    let query = captured[`${filter}.firstPage`]
    if (request.query.cursor !== undefined) {
      const key = JSON.parse(Buffer.from(request.query.cursor, 'base64url').toString('utf8'))
      Object.assign(values, { cursorCreatedAt: key.createdAt, cursorId: key.id })
      query = captured[`${filter}.deepPage`]
    }
    const { rows } = await pool.query(query.sql, bind(query, values))
    const items = rows.slice(0, limit)
    const last = items.at(-1)
    const nextCursor = rows.length > limit ? Buffer.from(JSON.stringify({ createdAt: last.createdAt, id: last.id })).toString('base64url') : null
    return { items, nextCursor }
  })

  app.post('/model-runs', async (request, reply) => {
    const body = request.body
    const values = {
      experimentId: body.experimentId,
      modelType: body.modelType,
      hyperparameters: JSON.stringify(body.hyperparameters),
      metadata: JSON.stringify(body.metadata),
    }
    const { rows } = await pool.query(captured.create.sql, bind(captured.create, values))
    return reply.code(201).send(rows[0])
  })
}

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.once('SIGTERM', () => { app.close().then(() => process.exit(0)) })
