import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ESLint } from 'eslint'
import t from 'tap'
import ts from 'typescript'
import { bearer, buildTestApp } from '../helpers/app.js'
import { runCli } from '../helpers/cli.js'
import { copyTestDatabase, createTestDatabase, testKnex } from '../helpers/database.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

// Three databases and a command line per case, on a shared machine.
t.setTimeout(600_000)

interface Teardown { teardown (fn: () => unknown): void }

interface Project {
  readonly migrations: string
  readonly snapshots: string
}

/**
 * A build's layout: migrations beside migrator, schema-snapshots above, as the command finds
 * them. Built modules (dist/), so no process spends its time compiling TypeScript; the modules
 * written are the same text either way, and are checked as TypeScript at the end.
 */
async function project (t: Teardown, layout: 'dist' | 'src' = 'dist'): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'aip-schema-autogenerate-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const base = join(dir, layout === 'dist' ? 'dist' : 'src')
  await mkdir(base)
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  await symlink(join(root, layout, 'migrator'), join(base, 'migrator'), 'dir')
  await cp(join(root, layout, 'migrations'), join(base, 'migrations'), { recursive: true, filter: (path) => !path.endsWith('.map') && !path.endsWith('.d.ts') })
  await cp(join(root, 'schema-snapshots'), join(dir, 'schema-snapshots'), { recursive: true })
  return { migrations: join(base, 'migrations'), snapshots: join(dir, 'schema-snapshots') }
}

/** Every module the command wrote, kept for the lint and type check at the end. */
const generated: Array<{ name: string, text: string }> = []

async function autogenerate (p: Project, databaseUrl: string, message: string, extra: string[] = []) {
  const run = await runCli(['revision', '--autogenerate', '-m', message, '--dir', p.migrations, '--snapshots', p.snapshots, '--json', ...extra], { DATABASE_URL: databaseUrl })
  return run
}

async function written (run: { json<T>(): T }): Promise<Array<{ revision: string, transactional: boolean, breaking: boolean, text: string }>> {
  const result = run.json<{ revisions: Array<{ revision: string, transactional: boolean, breaking: boolean, file: string }> }>()
  return Promise.all(result.revisions.map(async (revision) => {
    const text = await readFile(revision.file, 'utf8')
    generated.push({ name: basename(revision.file).replace(/\.js$/, '.ts'), text })
    return { ...revision, text }
  }))
}

const upgrade = { method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: 'head' } } as const

/**
 * A database the service brought to the shipped head, then left: each case's databases at head
 * are copies of it, instead of running every revision again for each.
 */
const atHead = await createTestDatabase(t, 'autogen_head')
{
  const p = await project(t)
  const app = await buildTestApp({ teardown: () => undefined }, atHead, { migrationsDir: p.migrations, snapshotsDir: p.snapshots })
  try {
    const arranged = await app.inject(upgrade)
    if (arranged.statusCode !== 200) throw new Error(`could not bring the template to head: ${arranged.body}`)
  } finally {
    await app.close()
  }
}

/**
 * The proof of one case: change a database at head by hand, generate, apply what was written to
 * a fresh database at head with the service, find the same schema; then one step down, in sync.
 */
async function roundTrip (t: Teardown & Tap, label: string, change: readonly string[], options: { columnOrder?: boolean } = {}) {
  const p = await project(t)
  const dev = await copyTestDatabase(t, atHead, `autogen_${label}`)
  const devApp = await buildTestApp(t, dev, { migrationsDir: p.migrations, snapshotsDir: p.snapshots })
  const devKnex = testKnex(t, dev)
  for (const statement of change) await devKnex.raw(statement)

  const run = await autogenerate(p, dev, label)
  t.equal(run.code, 0, run.stderr)
  const revisions = await written(run)
  t.ok(revisions.length > 0, 'a revision was written')

  const fresh = await copyTestDatabase(t, atHead, `autogen_${label}_fresh`)
  const app = await buildTestApp(t, fresh, { migrationsDir: p.migrations, snapshotsDir: p.snapshots })
  const applied = await app.inject(upgrade)
  t.equal(applied.statusCode, 200, 'the service applies what was written')
  t.same(applied.json().steps.map((step: { revision: string }) => step.revision), revisions.map((revision) => revision.revision))
  const schemaOf = async (target: typeof app) => comparable((await target.inject({ url: '/schema', headers: bearer('read') })).json(), options.columnOrder ?? true)
  t.same(await schemaOf(app), await schemaOf(devApp), 'GET /schema: the fresh database is the hand-made one')
  const drift = async () => (await app.inject({ url: '/schema/drift', headers: bearer('read') })).json()
  t.match(await drift(), { revision: revisions.at(-1)?.revision, inSync: true }, 'the snapshot written beside it serves GET /schema/drift at once')

  const down = await app.inject({ method: 'POST', url: '/migrations/downgrade', headers: bearer('admin'), payload: { target: '-1' } })
  t.equal(down.statusCode, 200, 'downgrade -1')
  t.match(await drift(), { inSync: true, differences: [] }, 'downgrade -1: in sync with the revision below')
  return revisions
}

type Tap = Pick<typeof t, 'equal' | 'ok' | 'same' | 'match'>

/** Column positions are no part of a schema's meaning: a rename written as drop + add moves one to the end. */
function comparable (schema: { tables: Array<{ columns: Array<{ name: string }> }> }, columnOrder: boolean): unknown {
  if (columnOrder) return schema
  return { ...schema, tables: schema.tables.map((table) => ({ ...table, columns: [...table.columns].sort((a, b) => a.name.localeCompare(b.name)) })) }
}

t.test('a new table with a serial key, a foreign key with ON DELETE and a unique constraint', async (t) => {
  const [revision] = await roundTrip(t, 'create_table', [
    `CREATE TABLE run_tags (
      id bigserial PRIMARY KEY,
      model_run_id uuid NOT NULL REFERENCES model_runs (id) ON DELETE CASCADE,
      tag varchar(50) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT uq_run_tags UNIQUE (model_run_id, tag)
    )`,
  ])
  t.match(revision, { transactional: true, breaking: false })
  t.match(revision?.text, /CREATE TABLE run_tags \(\n\s+id bigserial,/)
  t.match(revision?.text, 'FOREIGN KEY (model_run_id) REFERENCES model_runs (id) ON DELETE CASCADE')
})

t.test('a dropped table: breaking, and the comment says what it drops', async (t) => {
  const [revision] = await roundTrip(t, 'drop_table', ['DROP TABLE generated_code'])
  t.match(revision, { transactional: true, breaking: true })
  t.match(revision?.text, /BREAKING: drops table generated_code and every row in it/)
  t.match(revision?.text, /breaking: true,/)
})

t.test('a column added with a default', async (t) => {
  const [revision] = await roundTrip(t, 'add_column', ['ALTER TABLE datasets ADD COLUMN priority integer NOT NULL DEFAULT 0'])
  t.match(revision?.text, "'ALTER TABLE datasets ADD COLUMN priority integer NOT NULL DEFAULT 0'")
})

t.test('a dropped column: breaking, with a comment saying whose data goes', async (t) => {
  const [revision] = await roundTrip(t, 'drop_column', ['ALTER TABLE datasets DROP COLUMN column_count'])
  t.match(revision, { transactional: true, breaking: true })
  t.match(revision?.text, /\/\*[^]*BREAKING: drops column datasets\.column_count and the data in it[^]*\*\/\nexport default/)
  t.notMatch(revision?.text, /rename/i, 'no column of its type appeared: no rename to ask about')
})

t.test("a column's type", async (t) => {
  const [revision] = await roundTrip(t, 'column_type', ['ALTER TABLE experiments ALTER COLUMN problem_type TYPE varchar(100)'])
  t.match(revision?.text, 'ALTER TABLE experiments ALTER COLUMN problem_type TYPE character varying(100) USING problem_type::character varying(100)')
})

t.test('SET NOT NULL on an existing table, through a validated check, outside a transaction', async (t) => {
  const [revision] = await roundTrip(t, 'nullability', ['ALTER TABLE model_runs ALTER COLUMN training_time SET NOT NULL'])
  t.match(revision, { transactional: false, breaking: false })
  t.match(revision?.text, /CHECK \(training_time IS NOT NULL\) NOT VALID[^]*VALIDATE CONSTRAINT model_runs_training_time_not_null[^]*SET NOT NULL/)
})

t.test("a column's default", async (t) => {
  const [revision] = await roundTrip(t, 'column_default', ["ALTER TABLE experiments ALTER COLUMN problem_type SET DEFAULT 'classification'"])
  t.match(revision?.text, "ALTER TABLE experiments ALTER COLUMN problem_type SET DEFAULT 'classification'::character varying")
})

t.test('a unique partial index, built concurrently and re-runnably', async (t) => {
  const [revision] = await roundTrip(t, 'index', ['CREATE UNIQUE INDEX ix_datasets_user_id_name ON datasets (user_id, name) WHERE description IS NOT NULL'])
  t.match(revision, { transactional: false })
  t.match(revision?.text, /to_regclass\('ix_datasets_user_id_name'\) AND NOT indisvalid[^]*CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_datasets_user_id_name ON datasets USING btree \(user_id, name\) WHERE \(description IS NOT NULL\)/)
})

t.test('a primary key changed: the new one built concurrently, then attached', async (t) => {
  const [revision] = await roundTrip(t, 'primary_key', [
    'ALTER TABLE tuning_runs DROP CONSTRAINT tuning_runs_pkey',
    'ALTER TABLE tuning_runs ADD CONSTRAINT tuning_runs_pkey PRIMARY KEY (id, model_run_id)',
  ])
  t.match(revision?.text, /CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tuning_runs_pkey ON tuning_runs USING btree \(id, model_run_id\)[^]*PRIMARY KEY USING INDEX tuning_runs_pkey/)
})

t.test("a foreign key's ON DELETE: NOT VALID, then validated", async (t) => {
  const [revision] = await roundTrip(t, 'foreign_key', [
    'ALTER TABLE experiments DROP CONSTRAINT experiments_dataset_id_fkey',
    'ALTER TABLE experiments ADD CONSTRAINT experiments_dataset_id_fkey FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE RESTRICT',
  ])
  t.match(revision?.text, /REFERENCES datasets \(id\) ON DELETE RESTRICT NOT VALID;[^]*VALIDATE CONSTRAINT experiments_dataset_id_fkey/)
})

t.test('a check constraint on a column whose name needs quoting', async (t) => {
  const [revision] = await roundTrip(t, 'check', ['ALTER TABLE preprocessing_steps ADD CONSTRAINT ck_preprocessing_steps_order CHECK ("order" >= 0)'])
  t.match(revision?.text, /ADD CONSTRAINT ck_preprocessing_steps_order CHECK \(\("order" >= 0\)\) NOT VALID;[^]*VALIDATE CONSTRAINT ck_preprocessing_steps_order/)
})

t.test('mixed: a new table with a foreign key to model_runs, a column with a default and an index on it, a check, a dropped index: two revisions', async (t) => {
  const revisions = await roundTrip(t, 'mixed', [
    'CREATE TABLE run_notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), model_run_id uuid NOT NULL REFERENCES model_runs (id) ON DELETE CASCADE, body text NOT NULL)',
    'ALTER TABLE datasets ADD COLUMN priority integer NOT NULL DEFAULT 0',
    'CREATE INDEX ix_datasets_priority ON datasets (priority)',
    'ALTER TABLE experiments ADD CONSTRAINT ck_experiments_name CHECK (length(name) > 0)',
    'DROP INDEX ix_model_runs_status',
  ])
  t.match(revisions, [{ transactional: true, breaking: false }, { transactional: false, breaking: false }], 'the transactional one first')
  t.match(revisions[0]?.text, /Two revisions: this transactional one, then [0-9a-f]{12}/)
  t.match(revisions[0]?.text, /CREATE TABLE run_notes[^]*ADD COLUMN priority|ADD COLUMN priority[^]*CREATE TABLE run_notes/)
  t.match(revisions[1]?.text, /DROP INDEX CONCURRENTLY IF EXISTS ix_model_runs_status[^]*CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_datasets_priority[^]*ck_experiments_name/)
})

t.test('a rename is written as drop + add with a comment asking, and marked breaking', async (t) => {
  const [revision] = await roundTrip(t, 'rename', ['ALTER TABLE experiments RENAME COLUMN target_column TO target'], { columnOrder: false })
  t.match(revision, { breaking: true })
  t.match(revision?.text, /REVIEW: experiments\.target_column vanished and experiments\.target \(character varying\(255\)\) appeared: written as drop \+ add, which loses the data\. Was it a rename\? Then replace both with ALTER TABLE experiments RENAME COLUMN target_column TO target/)
  t.match(revision?.text, /up: \[\n\s+'ALTER TABLE experiments ADD COLUMN target character varying\(255\)',\n\s+'ALTER TABLE experiments DROP COLUMN target_column',\n\s+\],/)
})

t.test('--to-sql: the desired schema from a SQL file, made in a scratch database and dropped', async (t) => {
  const p = await project(t)
  const dev = await copyTestDatabase(t, atHead, 'autogen_to_sql')
  const { stdout: dump } = await promisify(execFile)('pg_dump', ['--schema-only', '--no-owner', dev])
  const file = join(p.snapshots, '..', 'desired.sql')
  await writeFile(file, `${dump}\nCREATE TABLE public.run_labels (id uuid PRIMARY KEY, label text NOT NULL);\n`)
  const before = await scratchDatabases(dev)

  const run = await autogenerate(p, dev, 'add run labels', ['--to-sql', file])
  t.equal(run.code, 0, run.stderr)
  const [revision, ...others] = await written(run)
  t.same(others, [])
  t.match(revision?.text, /up: \[\n\s+`CREATE TABLE run_labels \(\n\s+id uuid NOT NULL,\n\s+label text NOT NULL,\n\s+CONSTRAINT run_labels_pkey PRIMARY KEY \(id\)\n\s+\)`,\n\s+\],/)
  t.same(await scratchDatabases(dev), before, 'no scratch database left behind')

  const broken = join(p.snapshots, '..', 'broken.sql')
  await writeFile(broken, 'CREATE TABLE x (id int REFERENCES nowhere (id));\n')
  const failed = await autogenerate(p, dev, 'broken', ['--to-sql', broken])
  t.equal(failed.code, 1)
  t.match(JSON.parse(failed.stderr), { type: 'sql-file-failed', detail: /broken\.sql does not run on an empty database: relation "nowhere" does not exist/ })
})

t.test('unhappy paths: nothing to do, a database not at head, a difference it cannot verify, one it cannot express', async (t) => {
  const p = await project(t)
  const dev = await createTestDatabase(t, 'autogen_unhappy')
  const none = await autogenerate(p, dev, 'at base')
  t.equal(none.code, 1)
  t.match(JSON.parse(none.stderr), { type: 'database-not-at-head', detail: /the database is at base, not at a head .*upgrade it to the head first/ })

  const devApp = await buildTestApp(t, dev, { migrationsDir: p.migrations })
  t.equal((await devApp.inject(upgrade)).statusCode, 200)
  const same = await runCli(['revision', '--autogenerate', '-m', 'nothing', '--dir', p.migrations, '--snapshots', p.snapshots], { DATABASE_URL: dev })
  t.equal(same.code, 0, same.stderr)
  t.match(same.stdout, /^No changes against [0-9a-z]+: nothing written\n$/)

  const files = await readdir(p.migrations)
  const db = testKnex(t, dev)
  await db.raw('CREATE SEQUENCE ticket_numbers')
  await db.raw("ALTER TABLE datasets ADD COLUMN ticket bigint NOT NULL DEFAULT nextval('ticket_numbers')")
  const unverified = await autogenerate(p, dev, 'tickets')
  t.equal(unverified.code, 1)
  t.match(JSON.parse(unverified.stderr), { type: 'autogenerate-verification-failed', detail: /nothing written: the generated up fails on a scratch database: .*ticket_numbers/ })
  t.same(await readdir(p.migrations), files, 'nothing written')

  await db.raw('ALTER TABLE datasets DROP COLUMN ticket')
  await db.raw('CREATE VIEW active_steps AS SELECT id FROM preprocessing_steps WHERE is_active')
  const unsupported = await runCli(['revision', '--autogenerate', '-m', 'active steps', '--dir', p.migrations, '--snapshots', p.snapshots], { DATABASE_URL: dev })
  t.equal(unsupported.code, 1, 'CI notices')
  t.match(unsupported.stderr, /UNSUPPORTED: sequence ticket_numbers was added[^]*UNSUPPORTED: view active_steps was added/)
  t.same(await readdir(p.migrations), files, 'a view alone is no revision')

  const nowhere = join(p.migrations, 'no-data-dir')
  const usage = await runCli(['revision', '--autogenerate', '-m', 'x', '--dir', p.migrations], { DATA_DIR: nowhere })
  t.equal(usage.code, 2)
  t.match(usage.stderr, `DATABASE_URL is not set and DATA_DIR ${nowhere} does not exist`, 'found as every verb finds its database')
  const misplaced = await runCli(['revision', '-m', 'x', '--to-sql', 'a.sql', '--dir', p.migrations])
  t.equal(misplaced.code, 2)
  t.match(misplaced.stderr, /--to-sql goes with --autogenerate/)
})

t.test('a difference it cannot express beside one it can: written, with the comment, and exit 1', async (t) => {
  const p = await project(t)
  const dev = await copyTestDatabase(t, atHead, 'autogen_partial')
  const db = testKnex(t, dev)
  await db.raw('ALTER TABLE datasets ADD COLUMN archived boolean NOT NULL DEFAULT false')
  await db.raw('CREATE VIEW live_datasets AS SELECT id FROM datasets WHERE NOT archived')
  const run = await autogenerate(p, dev, 'archive datasets')
  t.equal(run.code, 1)
  t.match(run.stderr, /UNSUPPORTED: view live_datasets was added/)
  const [revision] = await written(run)
  t.match(revision?.text, /NOT WRITTEN \(write it by hand\): view live_datasets was added: /)
  t.match(revision?.text, 'ALTER TABLE datasets ADD COLUMN archived boolean NOT NULL DEFAULT false')
})

t.test('every module written above passes the project lint and type check as it is', async (t) => {
  t.ok(generated.length >= 14, `${generated.length} modules`)
  const eslint = new ESLint({ cwd: root })
  for (const { name, text } of generated) {
    const [result] = await eslint.lintText(text, { filePath: join(root, 'src', 'migrations', name) })
    t.same(result?.messages.map((message) => `${message.line}:${message.column} ${message.ruleId ?? ''} ${message.message}`), [], `lint: ${name}`)
  }
  const p = await project(t, 'src')
  for (const { name, text } of generated) await writeFile(join(p.migrations, name), text)
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })
  const program = ts.createProgram(generated.map(({ name }) => join(p.migrations, name)), { ...config?.options, noEmit: true, types: [], rootDir: undefined })
  t.same(ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')), [], 'tsc')
})

async function scratchDatabases (databaseUrl: string): Promise<string[]> {
  const knex = testKnex({ teardown: () => undefined }, databaseUrl)
  try {
    return (await knex.raw("SELECT datname FROM pg_database WHERE datname LIKE 'aip\\_schema\\_autogenerate\\_%' OR datname LIKE 'aip\\_schema\\_desired\\_%' ORDER BY datname")).rows.map((row: { datname: string }) => row.datname)
  } finally {
    await knex.destroy()
  }
}
