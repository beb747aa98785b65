import { randomBytes } from 'node:crypto'
import pg from 'pg'
import knexFactory, { type Knex } from 'knex'

export const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Teardown { teardown (fn: () => unknown): void }

/** A database of its own for one test file, dropped when the file ends. */
export async function createTestDatabase (t: Teardown, label = 'test'): Promise<string> {
  return ownDatabase(t, label, '')
}

/**
 * A database of its own for one test, a copy of `template` (a database no one is connected to),
 * dropped when the test ends: a file copy, where arranging it again would cost every revision.
 */
export async function copyTestDatabase (t: Teardown, template: string, label = 'test'): Promise<string> {
  return ownDatabase(t, label, ` TEMPLATE ${new URL(template).pathname.slice(1)}`)
}

async function ownDatabase (t: Teardown, label: string, createClause: string): Promise<string> {
  const name = `aip_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`
  await admin(`CREATE DATABASE ${name}${createClause}`)
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
