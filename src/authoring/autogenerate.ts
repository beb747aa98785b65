import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import knexFactory, { type Knex } from 'knex'
import { diffSchemas, type SchemaDifference } from '../catalog/diff.js'
import { introspectSchema } from '../catalog/introspect.js'
import { applicationSchema, type SchemaDefinition } from '../catalog/schema.js'
import { readSnapshot, writeSnapshot, type SchemaSnapshot } from '../catalog/snapshots.js'
import { generateMigration, type GeneratedPhase } from '../catalog/sql-generator.js'
import { diffOtherObjects, introspectOtherObjects, type OtherObject } from '../catalog/unsupported.js'
import { createMigrator, MigratorError, readDatabaseState, type RevisionDefinition, RevisionGraph, type SchemaMigrator, toRevision, verifyDatabaseState } from '../migrator/index.js'
import { fail } from './errors.js'
import { moduleSource } from './revision-module.js'
import { describe, headToBuildOn, loadGraph, newModuleFiles } from './scaffold.js'
import { createScratchDatabase, runSqlText } from './scratch-database.js'

export interface AutogenerateOptions {
  readonly message: string
  /** The migrations directory the revisions are read from and written to. */
  readonly dir: string
  readonly snapshotsDir: string
  /** The developer's database; with `toSql`, only the server scratch databases are made on. */
  readonly databaseUrl: string
  /** A SQL file holding the desired schema, instead of the database's own. */
  readonly toSql: string | null
  /** With `toSql`: the head to build on when there are several. */
  readonly head: string | null
}

export interface GeneratedRevision {
  readonly revision: string
  readonly downRevisions: string[]
  readonly description: string
  readonly transactional: boolean
  readonly breaking: boolean
  readonly file: string
  readonly snapshot: string
}

export interface AutogenerateResult {
  /** The revision the new ones build on. */
  readonly head: string
  /** Empty when there was no difference: nothing is written then. */
  readonly revisions: GeneratedRevision[]
  readonly notes: string[]
  /** Differences written as no statement: the command exits 1 when there are any. */
  readonly unsupported: string[]
}

/** What the new revisions must produce. */
interface Desired {
  readonly head: string
  readonly source: string
  readonly schema: SchemaDefinition
  readonly others: OtherObject[]
}

const actor = 'autogenerate'

/**
 * `revision --autogenerate`: revisions on top of a head whose `up` turns the head's snapshot into
 * the desired schema, proven on a scratch database at that head (up gives the desired schema,
 * down gives the head's back) before anything is written.
 */
export async function autogenerate (options: AutogenerateOptions): Promise<AutogenerateResult> {
  const graph = await loadGraph(options.dir)
  const desired = options.toSql === null ? await readDatabase(graph, options.databaseUrl) : await readSqlFile(graph, options.databaseUrl, options.toSql, options.head)
  const from = await readSnapshot(options.snapshotsDir, desired.head)
  const generated = generateMigration(from, desired.schema)
  const scratch = await createScratchDatabase(options.databaseUrl, 'autogenerate')
  try {
    await migratorOn(scratch.knex, graph).upgrade({ target: desired.head, actor })
    const unsupported = [...generated.unsupported, ...diffOtherObjects(await introspectOtherObjects(scratch.knex), desired.others)]
    if (generated.phases.length === 0) return { head: desired.head, revisions: [], notes: [], unsupported }

    const files = await newModuleFiles(graph, options.dir, generated.phases.map((_phase, index) => descriptionOf(options.message, generated.phases.length, index)))
    const definitions = definitionsOf(generated.phases, files, desired.head, options.message)
    const extended = RevisionGraph.build([...graph.all(), ...definitions.map((definition, index) => toRevision(definition, files[index]?.file ?? ''))])
    const migrator = migratorOn(scratch.knex, extended)
    const snapshots: SchemaSnapshot[] = []
    for (const definition of definitions) {
      await verifying('up', () => migrator.upgrade({ target: definition.revision, actor }))
      snapshots.push({ revision: definition.revision, ...applicationSchema(await introspectSchema(scratch.knex)) })
    }
    mustMatch(`up does not give ${desired.source}'s schema`, diffSchemas(withoutInvalidIndexes(desired.schema), snapshots.at(-1) as SchemaSnapshot))
    await verifying('down', () => migrator.downgrade({ target: desired.head, actor }))
    mustMatch(`down does not give back the schema of ${desired.head} (schema-snapshots/${desired.head}.json)`,
      diffSchemas(from, applicationSchema(await introspectSchema(scratch.knex))))

    const headers = headersOf(generated.phases, definitions, desired, unsupported)
    const revisions: GeneratedRevision[] = []
    for (const [index, definition] of definitions.entries()) {
      const file = files[index]?.file ?? ''
      await writeFile(file, moduleSource(definition, headers[index]), { flag: 'wx' })
      const snapshot = await writeSnapshot(options.snapshotsDir, snapshots[index] as SchemaSnapshot)
      revisions.push({
        revision: definition.revision,
        downRevisions: [...definition.downRevisions],
        description: definition.description,
        transactional: definition.transactional !== false,
        breaking: definition.breaking === true,
        file,
        snapshot: resolve(snapshot),
      })
    }
    return { head: desired.head, revisions, notes: generated.phases.flatMap((phase) => phase.notes), unsupported }
  } finally {
    await scratch.drop()
  }
}

/** The developer's database: it must be at a head, as a new revision goes on top of one. */
async function readDatabase (graph: RevisionGraph, databaseUrl: string): Promise<Desired> {
  const knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } })
  try {
    const state = await readDatabaseState(knex)
    const analysis = verifyDatabaseState(graph, state, 'unknown-only')
    if (analysis.ahead.length > 0) fail('database-ahead', `the database has revisions this checkout lacks (${analysis.ahead.join(', ')}): pull them first`)
    const at = analysis.knownHeads
    const head = at[0]
    if (at.length !== 1 || head === undefined || !graph.heads.includes(head)) {
      fail('database-not-at-head', `the database is at ${at.join(', ') || 'base'}, not at a head of ${graph.heads.join(', ')}: ` +
        'upgrade it to the head first, then change it; the new revision goes on top of the head')
    }
    return { head, source: 'the database', schema: applicationSchema(await introspectSchema(knex)), others: await introspectOtherObjects(knex) }
  } finally {
    await knex.destroy()
  }
}

/** `--to-sql`: the schema a SQL file makes in an empty database, on the same server. */
async function readSqlFile (graph: RevisionGraph, databaseUrl: string, file: string, named: string | null): Promise<Desired> {
  const head = headToBuildOn(graph, named)
  const text = await readFile(file, 'utf8')
  const scratch = await createScratchDatabase(databaseUrl, 'desired')
  try {
    await runSqlText(scratch.url, text).catch((error: Error) => fail('sql-file-failed', `${file} does not run on an empty database: ${error.message}`))
    return { head, source: file, schema: applicationSchema(await introspectSchema(scratch.knex)), others: await introspectOtherObjects(scratch.knex) }
  } finally {
    await scratch.drop()
  }
}

function migratorOn (knex: Knex, graph: RevisionGraph): SchemaMigrator {
  return createMigrator({ knex, graph, instance: actor })
}

async function verifying (direction: 'up' | 'down', run: () => Promise<unknown>): Promise<void> {
  try {
    await run()
  } catch (error) {
    if (!(error instanceof MigratorError)) throw error
    fail('autogenerate-verification-failed', `nothing written: the generated ${direction} fails on a scratch database: ${error.message}`)
  }
}

function mustMatch (what: string, differences: readonly SchemaDifference[]): void {
  if (differences.length === 0) return
  fail('autogenerate-verification-failed', `nothing written: ${what}:\n${differences.map((difference) => `  ${difference.detail}`).join('\n')}`)
}

function withoutInvalidIndexes (schema: SchemaDefinition): SchemaDefinition {
  return { tables: schema.tables.map((table) => ({ ...table, indexes: table.indexes.filter((index) => index.valid) })) }
}

function descriptionOf (message: string, count: number, index: number): string {
  return count > 1 && index === 1 ? `${describe(message)} (online part)` : describe(message)
}

function definitionsOf (phases: readonly GeneratedPhase[], files: ReadonlyArray<{ id: string }>, head: string, message: string): RevisionDefinition[] {
  const createDate = new Date().toISOString()
  return phases.map((phase, index) => ({
    revision: files[index]?.id ?? '',
    downRevisions: [index === 0 ? head : files[index - 1]?.id ?? ''],
    description: descriptionOf(message, phases.length, index),
    createDate,
    ...phase.transactional ? {} : { transactional: false },
    ...phase.breaking ? { breaking: true } : {},
    up: phase.up,
    down: phase.down,
  }))
}

/** The comment above each module: what a reviewer must know before committing it. */
function headersOf (phases: readonly GeneratedPhase[], definitions: readonly RevisionDefinition[], desired: Desired, unsupported: readonly string[]): string[][] {
  return phases.map((phase, index) => {
    const other = definitions[phases.length - 1 - index]?.revision
    return [
      `Generated by \`aip-schema revision --autogenerate\` from ${desired.source} against schema-snapshots/${desired.head}.json,`,
      'and verified on a scratch database: up gives that schema, down gives the head\'s back. Review it before committing.',
      ...phases.length === 1 ? [] : halfOf(index, other ?? ''),
      ...phase.notes.map((note) => `${note.startsWith('drops ') ? 'BREAKING: ' : 'REVIEW: '}${note}`),
      ...index === 0 ? unsupported.map((line) => `NOT WRITTEN (write it by hand): ${line}`) : [],
    ]
  })
}

function halfOf (index: number, other: string): string[] {
  if (index === 0) return [`Two revisions: this transactional one, then ${other}, which runs outside a transaction.`]
  return [
    `The online half of ${other}: CREATE INDEX CONCURRENTLY, and constraints added NOT VALID then validated,`,
    'each in a transaction of its own and re-runnable, so reads and writes go on.',
  ]
}
