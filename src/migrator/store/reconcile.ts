import type { Knex } from 'knex'
import { tables } from './bookkeeping.js'
import type { RevisionGraph } from '../graph/graph.js'
import type { DatabaseState } from './state.js'

/**
 * Makes Knex's bookkeeping and the checksum table agree with `alembic_version`, the truth.
 * This is how a database Alembic brought is adopted (its revisions are trusted as they are),
 * and how records left behind by anything else (a hand-run `knex migrate`, an edited table)
 * are healed. Runs under the migration lock.
 */
export async function reconcileBookkeeping (knex: Knex, graph: RevisionGraph, state: DatabaseState, options: { repin?: boolean } = {}): Promise<void> {
  const applied = graph.closure(state.heads)
  const recorded = new Set((await knex(tables.knexMigrations).select('name')).map((row: { name: string }) => row.name))
  const stale = [...recorded].filter((name) => !applied.has(name))
  const missing = graph.all().filter((revision) => applied.has(revision.revision) && !recorded.has(revision.revision))
  // A stamp declares the database true as the code now describes it: its checksums are re-pinned.
  const unpinned = [...applied].filter((id) => options.repin === true ? state.applied.get(id)?.checksum !== graph.get(id).checksum : !state.applied.has(id))
  const orphaned = [...state.applied.keys()].filter((id) => !applied.has(id))
  // The common case, records in agreement, costs the one read.
  if (stale.length + missing.length + unpinned.length + orphaned.length === 0) return
  await knex.transaction(async (trx) => {
    if (stale.length > 0) await trx(tables.knexMigrations).whereIn('name', stale).delete()
    if (missing.length > 0) {
      await trx(tables.knexMigrations).insert(missing.map((revision) => ({ name: revision.revision, batch: 0, migration_time: new Date() })))
    }
    if (unpinned.length > 0) {
      await trx(tables.revisions).insert(unpinned.map((id) => ({ revision: id, checksum: graph.get(id).checksum })))
        .onConflict('revision').merge(['checksum'])
    }
    if (orphaned.length > 0) await trx(tables.revisions).whereIn('revision', orphaned).delete()
  })
}
