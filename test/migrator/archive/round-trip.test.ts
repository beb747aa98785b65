import t, { type Test } from 'tap'
import { ArchiveConflictError, ArchiveNotFoundError, loadRevisions, RevisionGraph, SchemaMigrator, type RevisionDefinition, type RevisionStep } from '../../../src/migrator/index.js'
import { createTestDatabase, testKnex } from '../../helpers/database.js'
import { lineRevision, revisionsDir } from '../../helpers/synthetic-revisions.js'

const silent = { info () {}, warn () {}, error () {} }
const url = await createTestDatabase(t, 'archive_round_trip')
const knex = testKnex(t, url)

/** Each test starts from an empty database: its graph is its own, and so are its bookkeeping and archives. */
async function engine (t: Test, definitions?: readonly RevisionDefinition[]) {
  await knex.raw('DROP SCHEMA IF EXISTS aip_schema_archive CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public')
  const graph = RevisionGraph.build(await loadRevisions(definitions === undefined ? undefined : await revisionsDir(t, definitions)))
  return new SchemaMigrator({ knex, graph, instance: 'archive-test', lockWaitMs: 10_000, lockTimeoutMs: 5000, archiveRetentionDays: 30, logger: silent })
}

async function transformerDigests (): Promise<Map<string, string>> {
  const { rows } = await knex.raw<{ rows: Array<{ id: string, digest: string, is_active: boolean }> }>(
    "SELECT id, encode(sha256(fitted_transformer), 'hex') AS digest, is_active FROM preprocessing_steps ORDER BY id")
  return new Map(rows.map((row) => [row.id, `${row.digest} ${row.is_active}`]))
}

t.test("the seed's c3d4e5f6g7h8: downgrade -1 archives every fitted transformer, upgrade +1 brings each back byte-identical", async (t) => {
  const migrator = await engine(t)
  const revision = 'c3d4e5f6g7h8'
  const parent = migrator.graph.get(revision).downRevisions[0] as string
  t.ok(migrator.graph.children(parent).includes(revision), `${revision} is the child of ${parent}`)
  await migrator.upgrade({ target: revision, actor: 'test' })
  await knex.raw(`WITH u AS (INSERT INTO users (email, username, hashed_password) VALUES ('a@example.com', 'a', 'x') RETURNING id),
    d AS (INSERT INTO datasets (user_id, name, file_path) SELECT id, 'd', '/d' FROM u RETURNING id)
    INSERT INTO preprocessing_steps (dataset_id, step_type, "order", is_active, fitted_transformer)
    SELECT d.id, 'scale', i, i % 3 <> 0, CASE WHEN i % 10 = 0 THEN NULL ELSE decode(md5(i::text) || md5((i * 7)::text), 'hex') || decode(repeat(md5(i::text), 1 + i % 20), 'hex') END
    FROM d, generate_series(1, 1000) AS i`)
  const before = await transformerDigests()
  t.equal(before.size, 1000)

  const down = await migrator.downgrade({ target: '-1', actor: 'test' })
  t.same(down.to, [parent], 'downgraded one step')
  const archived = (await migrator.archives()).filter((archive) => archive.table === 'preprocessing_steps')
  t.equal(archived.length, 1, 'one archive for the statement that dropped both columns')
  const archive = archived[0]!
  t.match(archive, { kind: 'drop-column', revision, direction: 'down', rows: 1000, keyColumns: ['id'], restoredAt: null })
  t.same([...archive.columns!].sort(), ['fitted_transformer', 'is_active'])
  t.ok(archive.bytes > 0, `${archive.bytes} bytes`)
  t.ok(Date.parse(archive.expiresAt) - Date.parse(archive.createdAt) >= 29 * 86_400_000, 'kept for the retention')
  const columns = await knex.raw<{ rows: unknown[] }>("SELECT FROM information_schema.columns WHERE table_name = 'preprocessing_steps' AND column_name = 'fitted_transformer'")
  t.equal(columns.rows.length, 0, 'the column is gone from the live table')

  await migrator.upgrade({ target: revision, actor: 'test' })
  t.same(await transformerDigests(), before, 'every transformer (and is_active) byte-identical by SHA-256')
  const after = (await migrator.archives()).find((found) => found.id === archive.id)
  t.not(after?.restoredAt, null, 'the archive is marked restored')
})

const notes = (index: number, up: RevisionStep[], down: RevisionStep[], extra: Partial<RevisionDefinition> = {}): RevisionDefinition => ({ ...lineRevision(index, up, down), ...extra })
const createNotes = 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL, tag text)'

t.test('a revision dropping a table and its downgrade: every row comes back, the sequence past them', async (t) => {
  const migrator = await engine(t, [
    notes(1, [createNotes], ['DROP TABLE notes']),
    notes(2, ['DROP TABLE notes'], [createNotes]),
  ])
  await migrator.upgrade({ target: 's00000000001', actor: 'test' })
  await knex.raw("INSERT INTO notes (body, tag) SELECT 'note ' || i, CASE WHEN i % 2 = 0 THEN 'even' END FROM generate_series(1, 50) AS i")
  const before = (await knex.raw('SELECT * FROM notes ORDER BY id')).rows
  await migrator.upgrade({ target: 'head', actor: 'test' })
  const archive = (await migrator.archives()).find((found) => found.table === 'notes' && found.kind === 'drop-table')
  t.match(archive, { columns: null, rows: 50, revision: 's00000000002', direction: 'up' })
  await migrator.downgrade({ target: 's00000000001', actor: 'test' })
  t.same((await knex.raw('SELECT * FROM notes ORDER BY id')).rows, before, 'every row, as it was')
  const next = (await knex.raw<{ rows: Array<{ id: number }> }>("INSERT INTO notes (body) VALUES ('new') RETURNING id")).rows[0]
  t.equal(next?.id, 51, 'the sequence continues past the restored ids')
  t.not((await migrator.archives()).find((found) => found.id === archive?.id)?.restoredAt, null)
})

t.test('a table with an enum column and its enum dropped in one revision: the drop runs, the downgrade brings rows and labels back', async (t) => {
  const createMoods = "CREATE TYPE mood AS ENUM ('calm', 'busy')"
  const createPeople = 'CREATE TABLE people (id int PRIMARY KEY, mood mood NOT NULL, moods mood[])'
  const migrator = await engine(t, [
    notes(1, [createMoods, createPeople], ['DROP TABLE people', 'DROP TYPE mood']),
    notes(2, ['DROP TABLE people', 'DROP TYPE mood'], [createMoods, createPeople]),
  ])
  await migrator.upgrade({ target: 's00000000001', actor: 'test' })
  await knex.raw("INSERT INTO people VALUES (1, 'calm', '{busy,calm}'), (2, 'busy', NULL)")
  const before = (await knex.raw('SELECT id, mood::text, moods::text FROM people ORDER BY id')).rows
  await migrator.upgrade({ target: 'head', actor: 'test' })
  t.equal((await knex.raw("SELECT to_regtype('mood') AS mood")).rows[0].mood, null, 'the type is gone: the archive does not hold on to it')
  t.match((await migrator.archives()).find((found) => found.table === 'people'), { kind: 'drop-table', rows: 2 })
  await migrator.downgrade({ target: 's00000000001', actor: 'test' })
  t.same((await knex.raw('SELECT id, mood::text, moods::text FROM people ORDER BY id')).rows, before, 'every row, its labels as they were')
  t.equal((await knex.raw('SELECT pg_typeof(mood)::text AS type FROM people LIMIT 1')).rows[0].type, 'mood')
})

t.test('a backfill that overwrites values archives the non-null ones first; filling in nulls archives nothing; restore puts them back', async (t) => {
  const migrator = await engine(t, [
    notes(1, [createNotes, "INSERT INTO notes (body, tag) SELECT 'note ' || i, CASE WHEN i <= 30 THEN 'old ' || i END FROM generate_series(1, 100) AS i"], ['DROP TABLE notes']),
    notes(2, [{ backfill: { table: 'notes', set: "tag = 'new'", where: "tag IS DISTINCT FROM 'new'", batchSize: 7 } }], []),
    notes(3, ['ALTER TABLE notes ADD COLUMN mood text', { backfill: { table: 'notes', set: "mood = 'calm'", where: 'mood IS NULL' } }], []),
  ])
  await migrator.upgrade({ target: 'head', actor: 'test' })
  t.equal(Number((await knex.raw("SELECT count(*) FROM notes WHERE tag = 'new'")).rows[0].count), 100, 'the backfill ran over every row')
  const archive = (await migrator.archives()).find((found) => found.kind === 'update')
  t.match(archive, { table: 'notes', columns: ['tag'], keyColumns: ['id'], rows: 30, revision: 's00000000002' }, 'the 30 values it overwrote, not the 70 nulls it filled in')
  t.equal((await migrator.archives()).filter((found) => found.kind === 'update').length, 1, 'none for the backfill that only filled in a new column')
  t.equal(await migrator.restoreArchive(archive!.id), 30)
  const { rows } = await knex.raw<{ rows: Array<{ id: number, tag: string }> }>("SELECT id, tag FROM notes WHERE tag <> 'new' ORDER BY id")
  t.same(rows, Array.from({ length: 30 }, (_, index) => ({ id: index + 1, tag: `old ${index + 1}` })), 'the prior values are back')
})

t.test('an UPDATE archives the prior values of the rows it matches; restore puts them back', async (t) => {
  const migrator = await engine(t, [
    notes(1, [createNotes, "INSERT INTO notes (body) SELECT 'note ' || i FROM generate_series(1, 20) AS i"], ['DROP TABLE notes']),
    notes(2, ["UPDATE notes AS n SET body = upper(n.body), tag = 'shouted' WHERE n.id <= 5"], []),
    notes(3, ['DELETE FROM notes WHERE id > 18'], []),
    notes(4, ['TRUNCATE notes'], [], { archive: { enabled: false, reason: 'the test says so' } }),
    notes(5, [createNotes, "INSERT INTO notes (body) VALUES ('a long body'), ('short')"], ['DROP TABLE notes']),
    notes(6, ['ALTER TABLE notes ALTER COLUMN body TYPE varchar(5) USING left(body, 5)'], ['ALTER TABLE notes ALTER COLUMN body TYPE text']),
  ])
  await migrator.upgrade({ target: 's00000000003', actor: 'test' })
  const archives = await migrator.archives()
  const updated = archives.find((archive) => archive.kind === 'update')
  t.match(updated, { columns: ['body', 'tag'], keyColumns: ['id'], rows: 5 }, 'the key and the SET columns of the matched rows')
  const deleted = archives.find((archive) => archive.kind === 'delete')
  t.match(deleted, { columns: null, rows: 2 }, 'whole rows of the deleted ones')

  t.equal(await migrator.restoreArchive(updated!.id), 5)
  const { rows } = await knex.raw<{ rows: Array<{ body: string, tag: string | null }> }>('SELECT body, tag FROM notes WHERE id <= 5 ORDER BY id')
  t.same(rows, [1, 2, 3, 4, 5].map((i) => ({ body: `note ${i}`, tag: null })), 'the prior values are back')
  t.equal(await migrator.restoreArchive(deleted!.id), 2)
  t.equal(Number((await knex.raw('SELECT count(*) FROM notes')).rows[0].count), 20, 'the deleted rows are back')

  t.equal(await migrator.restoreArchive(deleted!.id, 'notes_copy'), 2, 'into a new table')
  t.equal(Number((await knex.raw('SELECT count(*) FROM notes_copy')).rows[0].count), 2)
  await t.rejects(migrator.restoreArchive(deleted!.id, 'notes_copy'), ArchiveConflictError, 'not over a table that exists')
  await t.rejects(migrator.restoreArchive(updated!.id, 'bad name; drop table notes'), ArchiveConflictError, 'a name that is no plain identifier is refused')
  await t.rejects(migrator.restoreArchive(999_999), ArchiveNotFoundError)
  await knex.raw('ALTER TABLE notes DROP COLUMN tag')
  await t.rejects(migrator.restoreArchive(updated!.id), ArchiveConflictError, 'the live table lacks a column: 409, not a half restore')

  const count = (await migrator.archives()).length
  await migrator.upgrade({ target: 's00000000004', actor: 'test' })
  t.equal((await migrator.archives()).length, count, 'archive: { enabled: false } archives nothing')

  await migrator.deleteArchive(updated!.id)
  t.notOk((await migrator.archives()).some((archive) => archive.id === updated!.id), 'deleted')
  t.equal((await knex.raw('SELECT to_regclass(?) AS t', [`aip_schema_archive.archive_${updated!.id}`])).rows[0].t, null, 'its table dropped')
  await t.rejects(migrator.deleteArchive(updated!.id), ArchiveNotFoundError)

  await knex.raw("UPDATE aip_schema_archives SET expires_at = now() - interval '1 day' WHERE id = ?", [deleted!.id])
  t.equal(await migrator.purgeExpiredArchives(), 1, 'the archive past its retention is purged')
  t.notOk((await migrator.archives()).some((archive) => archive.id === deleted!.id))
  t.equal((await knex.raw('SELECT to_regclass(?) AS t', [`aip_schema_archive.archive_${deleted!.id}`])).rows[0].t, null)
  await knex.raw('DROP TABLE notes_copy')

  await knex.raw('DROP TABLE notes')
  await migrator.upgrade({ target: 'head', actor: 'test' })
  const retyped = (await migrator.archives()).find((archive) => archive.kind === 'type-change')
  t.match(retyped, { table: 'notes', columns: ['body'], rows: 2 }, 'a type change archives the column before its rewrite')
  await t.rejects(migrator.restoreArchive(retyped!.id), ArchiveConflictError, 'values the narrowed column cannot hold: 409, nothing truncated')
  await migrator.downgrade({ target: 's00000000005', actor: 'test' })
  t.equal(await migrator.restoreArchive(retyped!.id), 2, 'once the column is wide again, the values come back')
  t.same((await knex.raw('SELECT body FROM notes ORDER BY id')).rows, [{ body: 'a long body' }, { body: 'short' }])

  const kept = (await migrator.archives()).length
  const dryRun = await migrator.downgrade({ target: 's00000000004', actor: 'test', dryRun: true })
  t.equal(dryRun.steps.length, 1, 'the dry run ran the DROP TABLE')
  t.equal((await migrator.archives()).length, kept, 'a dry run leaves no archive: it is rolled back with the step')
})
