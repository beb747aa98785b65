import type { Knex } from 'knex'
import type { Blocker } from '../errors.js'

export interface BlockerWatch {
  /** Stops watching; the sessions that last blocked the watched one, [] if none ever did. */
  stop (): readonly Blocker[]
}

const blockersQuery = `SELECT pid, application_name, state,
    (extract(epoch FROM clock_timestamp() - xact_start) * 1000)::bigint AS transaction_age_ms,
    left(query, 200) AS query
  FROM pg_stat_activity WHERE pid = ANY (pg_blocking_pids(?)) ORDER BY xact_start NULLS LAST`

interface BlockerRow {
  pid: number
  application_name: string
  state: string | null
  transaction_age_ms: string | null
  query: string
}

/**
 * Samples, from another connection, who blocks the migration session while a statement runs.
 * Once `lock_timeout` has fired the session waits for nothing and `pg_blocking_pids` is empty,
 * so the blockers must be seen before: the last non-empty sample is kept. Nothing is sampled
 * while a statement takes less than `firstAfterMs`, which is what almost every statement does.
 */
export function watchBlockers (knex: Knex, sessionPid: number, options: { firstAfterMs: number, everyMs: number }): BlockerWatch {
  let last: readonly Blocker[] = []
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  const sample = async (): Promise<void> => {
    try {
      const { rows } = await knex.raw<{ rows: BlockerRow[] }>(blockersQuery, [sessionPid])
      if (rows.length > 0 && !stopped) last = rows.map(toBlocker)
    } catch {
      // A sample that fails (no free connection, say) leaves the last one standing.
    }
    if (!stopped) timer = setTimeout(sampleLater, options.everyMs)
  }
  const sampleLater = (): void => { sample().catch(() => undefined) }
  timer = setTimeout(sampleLater, options.firstAfterMs)
  return {
    stop () {
      stopped = true
      if (timer !== null) clearTimeout(timer)
      return last
    },
  }
}

function toBlocker (row: BlockerRow): Blocker {
  return {
    pid: row.pid,
    applicationName: row.application_name,
    state: row.state,
    transactionAgeMs: row.transaction_age_ms === null ? null : Number(row.transaction_age_ms),
    query: row.query,
  }
}
