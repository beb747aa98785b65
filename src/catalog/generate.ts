import type { Knex } from 'knex'
import { createMigrator, type RevisionGraph } from '../migrator/index.js'
import { introspectSchema } from './introspect.js'
import { applicationSchema } from './schema.js'
import type { SchemaSnapshot } from './snapshots.js'

const actor = 'schema-snapshots'

/**
 * The schema each revision produces, read from a scratch database (empty, at base) that is
 * migrated through the engine revision by revision. A revision off the line applied so far
 * (another branch) starts again from base, so each snapshot holds exactly its revision's ancestry.
 */
export async function generateSnapshots (knex: Knex, graph: RevisionGraph): Promise<SchemaSnapshot[]> {
  const migrator = createMigrator({ knex, graph, instance: actor })
  const snapshots = [await snapshotAt(knex, null)]
  for (const { revision } of graph.all()) {
    const ancestry = graph.closure([revision])
    const applied = graph.closure((await migrator.state()).heads)
    if ([...applied].some((id) => !ancestry.has(id))) await migrator.downgrade({ target: 'base', actor })
    await migrator.upgrade({ target: revision, actor })
    snapshots.push(await snapshotAt(knex, revision))
  }
  return snapshots
}

async function snapshotAt (knex: Knex, revision: string | null): Promise<SchemaSnapshot> {
  return { revision, ...applicationSchema(await introspectSchema(knex)) }
}
