import type { Knex } from 'knex'
import pg from 'pg'
import { recordNoOpUpgrade, type NoOpUpgradeEntry } from '../migrator/no-op.js'

/**
 * The engine's one-statement no-op upgrade, on a bare `pg` client: the deploy that ships no
 * revision is most `upgrade head` runs, and loading Knex costs a CLI process more than the
 * statement does. `false`: not a no-op (or no bookkeeping yet), the engine's full path decides.
 */
export async function recordNoOpUpgradeWithoutKnex (databaseUrl: string, entry: NoOpUpgradeEntry): Promise<{ recorded: boolean, heads: string[] }> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return await recordNoOpUpgrade(rawOnly(client), entry)
  } finally {
    await client.end()
  }
}

/** What `recordNoOpUpgrade` uses of Knex: `raw` with `?` placeholders (its statement has no other `?`). */
function rawOnly (client: pg.Client): Knex {
  const raw = async (sql: string, bindings: readonly unknown[]) => {
    let position = 0
    return client.query(sql.replace(/\?/g, () => `$${++position}`), [...bindings])
  }
  return { raw } as unknown as Knex
}
