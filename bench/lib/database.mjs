// Scratch databases on the benchmark server: each bench makes its own and drops it.
import pg from 'pg'

export const serverUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export async function admin (sql, params) {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    return await client.query(sql, params)
  } finally {
    await client.end()
  }
}

export function urlOf (name) {
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** A new empty database, or a copy of `template` (which must have no connections). */
export async function scratchDatabase (label, template) {
  const name = `aip_bench_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  await admin(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`)
  return { name, url: urlOf(name), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

export async function withClient (url, fn) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/**
 * Transactions committed in a database, as PostgreSQL counts them: every query outside an
 * explicit transaction is one. Backends flush their statistics about a second after they
 * go idle, hence the wait.
 */
export async function committedTransactions (name) {
  await new Promise((resolve) => setTimeout(resolve, 2_500))
  const { rows } = await admin('SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = $1', [name])
  return Number(rows[0].n)
}

export async function serverVersion () {
  const { rows } = await admin('SHOW server_version')
  return rows[0].server_version
}
