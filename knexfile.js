// Knex's own CLI on a database aip-schema migrated: `npx knex migrate:list` compares the
// `knex_migrations` rows, which hold revision ids, with the revisions this build ships
// (dist/migrations, built by `npm install`), in the order of the revision graph.
// Knex's migrator would bypass the cluster-wide migration lock, `alembic_version`, the checksums
// and the audit log, so migrating through this file is refused: aip-schema migrates.
import { loadRevisions, RevisionGraph } from './dist/migrator/index.js'

const refusal = 'knex does not migrate this database: use `npx aip-schema upgrade|downgrade <target>` ' +
  '(its migration lock and audit log), or `npx aip-schema revision -m "message"` for a new revision; `npx knex migrate:list` only reads'
const migratingCommands = new Set(['migrate:latest', 'migrate:up', 'migrate:down', 'migrate:rollback', 'migrate:make', 'migrate:unlock'])

if (process.argv.slice(2).some((argument) => migratingCommands.has(argument))) stop(refusal)

const connection = process.env.MIGRATION_DATABASE_URL || process.env.DATABASE_URL
if (!connection) stop('set DATABASE_URL (or MIGRATION_DATABASE_URL) to the database aip-schema migrates')

function stop (line) {
  process.stderr.write(`${line}\n`)
  process.exit(1)
}

/** The knex migrator's pluggable source: one migration per revision, named by its id. */
const revisionSource = {
  async getMigrations () {
    return RevisionGraph.build(await loadRevisions()).all().map((revision) => ({ file: revision.revision }))
  },
  getMigrationName (migration) {
    return migration.file
  },
  // Reached only by knex's API (knex.migrate.latest() with this configuration): the CLI stopped above.
  async getMigration () {
    const refuse = () => { throw new Error(refusal) }
    return { up: refuse, down: refuse }
  },
}

export default {
  client: 'pg',
  connection,
  migrations: { tableName: 'knex_migrations', migrationSource: revisionSource },
}
