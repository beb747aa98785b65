import { randomBytes } from 'node:crypto'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'

export interface ScratchDatabase {
  readonly url: string
  readonly knex: Knex
  /** Closes every connection and drops the database; safe to call more than once. */
  drop (): Promise<void>
}

/** An empty database of its own on the server `serverUrl` reaches, dropped when done. */
export async function createScratchDatabase (serverUrl: string, purpose: string): Promise<ScratchDatabase> {
  const name = `aip_schema_${purpose}_${randomBytes(5).toString('hex')}`
  await admin(serverUrl, `CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const knex = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 3 }, log: { warn: ignore, error: ignore, deprecate: ignore, debug: ignore } })
  let dropped: Promise<void> | null = null
  return {
    url: url.toString(),
    knex,
    drop: () => (dropped ??= knex.destroy().then(() => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  }
}

/**
 * A SQL file, the whole text as one simple query on a session of its own (pg_dump's output
 * empties `search_path`, which must not stay on a pooled session). psql's meta-commands are no
 * SQL: lines starting with a backslash (pg_dump writes `\\restrict`) are left out.
 */
export async function runSqlText (databaseUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query(text.split('\n').filter((line) => !line.startsWith('\\')).join('\n'))
  } finally {
    await client.end()
  }
}

async function admin (serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

function ignore (): void {}
