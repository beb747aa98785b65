import { randomBytes } from 'node:crypto'
import pg from 'pg'
import knexFactory, { type Knex } from 'knex'

export const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Teardown { teardown (fn: () => unknown): void }

/** A database of its own for one test file, dropped when the file ends. */
export async function createTestDatabase (t: Teardown, label = 'test'): Promise<string> {
  const name = `aip_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  t.teardown(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** A knex of the test's own, destroyed at teardown, for arranging and inspecting the database. */
export function testKnex (t: Teardown, url: string): Knex {
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 4 } })
  t.teardown(() => knex.destroy())
  return knex
}

async function admin (sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
