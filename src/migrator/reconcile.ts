import type { Knex } from 'knex'
import { tables } from './bookkeeping.js'
import type { RevisionGraph } from './graph.js'
import type { DatabaseState } from './state.js'

/**
 * Makes Knex's bookkeeping and the checksum table agree with `alembic_version`, the truth.
 * This is how a database Alembic brought is adopted (its revisions are trusted as they are),
 * and how a non-transactional revision interrupted between its DDL and Knex's own insert is
 * healed. Runs under the migration lock, so Knex's lock row, set by a holder that died, can be
 * freed: it is never what keeps replicas apart.
 */
export async function reconcileBookkeeping (knex: Knex, graph: RevisionGraph, state: DatabaseState, options: { repin?: boolean } = {}): Promise<void> {
  const applied = graph.closure(state.heads)
  // `list` creates Knex's two tables when missing, as `up` and `down` would.
  await knex.migrate.list({
    tableName: tables.knexMigrations,
    disableMigrationsListValidation: true,
    migrationSource: {
      getMigrations: async () => [],
      getMigrationName: (name: string) => name,
      getMigration: async () => ({ up: async () => undefined, down: async () => undefined }),
    },
  })
  await knex.transaction(async (trx) => {
    await trx(tables.knexMigrationsLock).update({ is_locked: 0 })
    const recorded = new Set((await trx(tables.knexMigrations).select('name')).map((row: { name: string }) => row.name))
    const stale = [...recorded].filter((name) => !applied.has(name))
    if (stale.length > 0) await trx(tables.knexMigrations).whereIn('name', stale).delete()
    const missing = graph.all().filter((revision) => applied.has(revision.revision) && !recorded.has(revision.revision))
    if (missing.length > 0) {
      await trx(tables.knexMigrations).insert(missing.map((revision) => ({ name: revision.revision, batch: 0, migration_time: new Date() })))
    }
    // A stamp declares the database true as the code now describes it: its checksums are re-pinned.
    const unpinned = [...applied].filter((id) => options.repin === true ? state.applied.get(id)?.checksum !== graph.get(id).checksum : !state.applied.has(id))
    if (unpinned.length > 0) {
      await trx(tables.revisions).insert(unpinned.map((id) => ({ revision: id, checksum: graph.get(id).checksum })))
        .onConflict('revision').merge(['checksum'])
    }
    const orphaned = [...state.applied.keys()].filter((id) => !applied.has(id))
    if (orphaned.length > 0) await trx(tables.revisions).whereIn('revision', orphaned).delete()
  })
}
