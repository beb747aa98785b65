import pg from 'pg'
import { type NoOpUpgradeEntry, recordNoOpUpgrade } from '../migrator/index.js'

/**
 * The engine's one-statement no-op upgrade, on a bare `pg` client: the deploy that ships no
 * revision is most `upgrade head` runs, and loading Knex costs a CLI process more than the
 * statement does. `false`: not a no-op (or no bookkeeping yet), the engine's full path decides.
 */
export async function recordNoOpUpgradeWithoutKnex (databaseUrl: string, entry: NoOpUpgradeEntry): Promise<{ recorded: boolean, heads: string[] }> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return await recordNoOpUpgrade((query) => client.query({ ...query, values: [...query.values] }), entry)
  } finally {
    await client.end()
  }
}
