import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { migrationSessionName, migrationSessionPrefix } from './cancel.js'
import { LockNotAcquiredError, PooledMigrationConnectionError, type LockHolder } from '../errors.js'
import { goesThroughTransactionPooler } from '../../database/pooler.js'
import { inSpan, spanNames } from './spans.js'

/**
 * The cluster-wide migration lock: a session advisory lock on a connection held for the whole
 * operation, which the revisions then run on. PostgreSQL frees it when the holder's session
 * ends, so a killed replica (or a lost connection) never leaves it
 * set (unlike Knex's lock row). It is polled with `pg_try_advisory_lock`, never waited on
 * inside a transaction, so a waiting replica holds no snapshot and blocks nobody.
 */
const lockClass = 0x61697073 // 'aips'
const lockObject = 1

/**
 * The lock's second key, as SQL with one text parameter (the scope, or null): 1 for the
 * database's own schema, as before scopes existed, so replicas of older releases still exclude
 * each other; a scope (a schema target's schema) hashes to a key of its own, never 1, so two
 * schemas of one database migrate side by side.
 */
const lockObjectSql = `(CASE WHEN ?::text IS NULL THEN ${lockObject} ELSE greatest(2, hashtext('aip_schema:' || ?::text) & 2147483647) END)`

/** The key's two parameters for a scope. */
function lockObjectParameters (scope: string | null): [string | null, string | null] {
  return [scope, scope]
}

/**
 * Whether any session of this database holds the migration lock, as a SQL expression with no
 * parameters: readable by anyone, taking nothing. The lock of the connection's schema counts
 * (a schema target's knex has that schema first on its search path) beside the unscoped one.
 */
export const migrationLockHeldSql = `EXISTS (SELECT FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND classid = ${lockClass} AND objsubid = 2
    AND objid IN (${lockObject}, greatest(2, hashtext('aip_schema:' || current_schema()) & 2147483647))
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

export interface LockOptions {
  readonly waitMs: number
  /** Who we are, for the holder a blocked replica reports. */
  readonly instance: string
  /** A schema target's schema: its lock is its own. Null or unset: the database's lock. */
  readonly scope?: string | null
  readonly onWait?: (waitedMs: number) => void
}

export interface LockContext {
  readonly waitedMs: number
  /**
   * The connection whose session holds the lock. The revisions run on it: should it die, the
   * lock is freed and the migration stops with it, so no other replica ever migrates beside one
   * that lost its lock.
   */
  readonly session: unknown
  /** That session's backend process id. */
  readonly sessionPid: number
}

/** One attempt at a time per process: queued callers wait here instead of holding pool connections. */
const queues = new WeakMap<Knex, Promise<unknown>>()

export async function withMigrationLock<T> (
  knex: Knex,
  options: LockOptions,
  work: (context: LockContext) => Promise<T>
): Promise<T> {
  const started = performance.now()
  const previous = queues.get(knex) ?? Promise.resolve()
  let endTurn!: () => void
  const turn = new Promise<void>((resolve) => { endTurn = resolve })
  queues.set(knex, previous.then(() => turn))
  try {
    const held = await inSpan(spanNames.lockWait, {}, async (span) => {
      await waitFor(previous, options.waitMs, started, knex, options.scope ?? null)
      const taken = await takeLock(knex, options, started)
      span.setAttribute('aip_schema.lock.waited_ms', Math.round(performance.now() - started))
      return taken
    })
    try {
      return await work({ waitedMs: performance.now() - started, ...held })
    } finally {
      await release(knex, held.session, options.scope ?? null)
    }
  } finally {
    endTurn()
  }
}

async function waitFor (previous: Promise<unknown>, waitMs: number, started: number, knex: Knex, scope: string | null): Promise<void> {
  const timer = new AbortController()
  const timeout = sleep(waitMs, 'timeout' as const, { signal: timer.signal }).catch(() => 'ready' as const)
  const outcome = await Promise.race([previous.then(() => 'ready' as const, () => 'ready' as const), timeout])
  timer.abort()
  if (outcome === 'timeout') {
    throw new LockNotAcquiredError(Math.round(performance.now() - started), await readLockHolder(knex, scope))
  }
}

/** The lock taken on a session of its own, polled with backoff; on failure the session goes back unlocked. */
async function takeLock (knex: Knex, options: LockOptions, started: number): Promise<Omit<LockContext, 'waitedMs'>> {
  const scope = options.scope ?? null
  const connection = await knex.client.acquireConnection()
  try {
    // Through a transaction pooler the lock would stay on a server session after we let go of it.
    if (await goesThroughTransactionPooler(knex, connection)) throw new PooledMigrationConnectionError()
    const named = await knex.raw<{ rows: Array<{ pid: number }> }>(
      "SELECT set_config('application_name', ?, false), pg_backend_pid() AS pid", [migrationSessionName(options.instance)]
    ).connection(connection)
    const sessionPid = named.rows[0]?.pid ?? 0
    let delay = 5
    for (;;) {
      const { rows } = await knex.raw<{ rows: Array<{ locked: boolean }> }>(
        `SELECT pg_try_advisory_lock(?, ${lockObjectSql}) AS locked`, [lockClass, ...lockObjectParameters(scope)]
      ).connection(connection)
      const waited = performance.now() - started
      if (rows[0]?.locked === true) return { session: connection, sessionPid }
      if (waited >= options.waitMs) {
        throw new LockNotAcquiredError(Math.round(waited), await readLockHolder(knex, scope))
      }
      options.onWait?.(waited)
      await sleep(Math.min(delay + Math.random() * delay, options.waitMs - waited))
      delay = Math.min(delay * 2, 500)
    }
  } catch (error) {
    await release(knex, connection, undefined)
    throw error
  }
}

/** `held`: the scope whose lock the session holds (null: the database's); undefined: none taken. */
async function release (knex: Knex, connection: unknown, held: string | null | undefined): Promise<void> {
  try {
    if (held !== undefined) await knex.raw(`SELECT pg_advisory_unlock(?, ${lockObjectSql})`, [lockClass, ...lockObjectParameters(held)]).connection(connection)
    await knex.raw("SELECT set_config('application_name', '', false)").connection(connection)
    await knex.client.releaseConnection(connection)
  } catch {
    // A connection that cannot unlock is broken: destroying it ends the session, which frees the lock.
    await knex.client.destroyRawConnection?.(connection).catch(() => undefined)
    await knex.client.releaseConnection(connection).catch(() => undefined)
  }
}

/**
 * Who holds the lock, read from PostgreSQL itself (advisory locks are per database, so only this
 * one's). `since` is when the holder's session last changed state; the engine gives the start of
 * the holder's operation instead when the audit log has it.
 */
export async function readLockHolder (knex: Knex, scope: string | null = null): Promise<LockHolder | null> {
  const { rows } = await knex.raw<{ rows: Array<{ application_name: string, pid: number, since: Date, query: string }> }>(
    `SELECT a.application_name, a.pid, a.state_change AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ? AND l.objid = ${lockObjectSql} AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      LIMIT 1`,
    [lockClass, ...lockObjectParameters(scope)]
  )
  const row = rows[0]
  if (row === undefined) return null
  const instance = row.application_name.startsWith(migrationSessionPrefix)
    ? row.application_name.slice(migrationSessionPrefix.length)
    : `backend pid ${row.pid}`
  return { instance, operation: null, since: new Date(row.since).toISOString() }
}
