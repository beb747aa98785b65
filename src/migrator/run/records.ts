import type { Knex } from 'knex'
import type { StepReport } from '../store/audit.js'
import { tables } from '../store/bookkeeping.js'
import type { Revision } from '../revision.js'
import { versionChannel } from '../store/version-channel.js'

/** Steps that commit together, all one way, with what `alembic_version` holds after the last. */
export interface StepRecords {
  readonly direction: 'up' | 'down'
  readonly revisions: readonly Revision[]
  readonly headsAfter: readonly string[]
  /** Their audit rows, written with them; none for a dry run, whose steps are logged once it is rolled back. */
  readonly audit?: { readonly operation: string, readonly positions: readonly number[], readonly reports: readonly StepReport[] }
}

/**
 * `alembic_version` set to exactly `heads`, as one statement's common table expressions: rows
 * that stay are neither deleted nor inserted, so they never collide.
 */
const versionRows = `removed AS (DELETE FROM ${tables.alembicVersion} WHERE NOT (version_num = ANY (CAST(? AS varchar[])))),
  added AS (INSERT INTO ${tables.alembicVersion} (version_num) SELECT unnest(CAST(? AS varchar[])) ON CONFLICT (version_num) DO NOTHING)`

/** Done: no longer under way. */
const unmarked = `unmarked AS (DELETE FROM ${tables.interrupted} WHERE revision = ANY (CAST(? AS text[]))),
  checkpoints AS (DELETE FROM ${tables.backfills} WHERE revision = ANY (CAST(? AS text[])))`

// Knex gives every migration run a batch; each step keeps one of its own, in order.
const recordUp = `${versionRows}, ${unmarked},
  pinned AS (INSERT INTO ${tables.revisions} (revision, checksum, down_revisions, description, breaking)
    SELECT * FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS jsonb[]), CAST(? AS text[]), CAST(? AS boolean[]))
    ON CONFLICT (revision) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at,
      down_revisions = EXCLUDED.down_revisions, description = EXCLUDED.description, breaking = EXCLUDED.breaking),
  listed AS (INSERT INTO ${tables.knexMigrations} (name, batch, migration_time)
    SELECT listed.name, last.batch + listed.ordinal, now()
      FROM unnest(CAST(? AS text[])) WITH ORDINALITY AS listed (name, ordinal),
           (SELECT coalesce(max(batch), 0) AS batch FROM ${tables.knexMigrations}) AS last)`

const recordDown = `${versionRows}, ${unmarked},
  unpinned AS (DELETE FROM ${tables.revisions} WHERE revision = ANY (CAST(? AS text[]))),
  unlisted AS (DELETE FROM ${tables.knexMigrations} WHERE name = ANY (CAST(? AS text[])))`

const logged = `logged AS (INSERT INTO ${tables.operationSteps} (operation, position, step)
    SELECT ?, logged.position, logged.step FROM unnest(CAST(? AS integer[]), CAST(? AS jsonb[])) AS logged (position, step))`

/**
 * Every record of the steps (`alembic_version`, the checksums and places in the graph, Knex's
 * `knex_migrations` rows, the audit rows) and the NOTIFY every replica hears on commit: one
 * statement, the same whether it records one step or a hundred.
 */
export function recordSteps (db: Knex | Knex.Transaction, records: StepRecords): Knex.Raw {
  const heads = [...records.headsAfter]
  const ids = records.revisions.map((revision) => revision.revision)
  const [expressions, bindings] = records.direction === 'up'
    ? [recordUp, [heads, heads, ids, ids, ids, records.revisions.map((revision) => revision.checksum),
        records.revisions.map((revision) => JSON.stringify(revision.downRevisions)),
        records.revisions.map((revision) => revision.description), records.revisions.map((revision) => revision.breaking), ids]]
    : [recordDown, [heads, heads, ids, ids, ids, ids]]
  const { audit } = records
  if (audit === undefined) return db.raw(`WITH ${expressions}\nSELECT pg_notify(?, ?)`, [...bindings, versionChannel, heads.join(',')])
  return db.raw(`WITH ${expressions},\n  ${logged}\nSELECT pg_notify(?, ?)`,
    [...bindings, audit.operation, [...audit.positions], audit.reports.map((report) => JSON.stringify(report)), versionChannel, heads.join(',')])
}

/** For a stamp: `alembic_version` set to `heads`, and the NOTIFY, in one round trip. */
export async function writeVersionTable (db: Knex | Knex.Transaction, heads: readonly string[]): Promise<void> {
  await db.raw(`WITH ${versionRows} SELECT pg_notify(?, ?)`, [[...heads], [...heads], versionChannel, heads.join(',')])
}
