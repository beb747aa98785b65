import { randomBytes } from 'node:crypto'
import { readdir, writeFile } from 'node:fs/promises'
import { register } from 'node:module'
import { join, resolve } from 'node:path'
import { loadRevisions, type RevisionDefinition, RevisionGraph, type RevisionStep, toRevision } from '../migrator/index.js'
import { fail } from './errors.js'
import { moduleSource } from './revision-module.js'

export interface WrittenRevision {
  readonly revision: string
  readonly downRevisions: string[]
  readonly description: string
  readonly createDate: string
  readonly file: string
}

/** `revision -m`: a new empty revision on top of the head (or the head `--head` names). */
export async function writeRevision (options: { message: string, dir: string, head: string | null, breaking?: boolean, backfill?: string | null }): Promise<WrittenRevision> {
  const graph = await loadGraph(options.dir)
  const up = options.backfill === undefined || options.backfill === null ? [] : [backfillScaffold(options.backfill)]
  return write(graph, options.dir, options.message, [headToBuildOn(graph, options.head)], options.breaking === true, up)
}

/**
 * `--backfill <table>`: a backfill step for its author to finish: the SET list, and the WHERE
 * that selects the rows still to do (so a batch run again changes nothing). The defaults are
 * written out to be seen and tuned.
 */
export function backfillScaffold (table: string): RevisionStep {
  if (!/^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?$/.test(table)) fail('invalid-table', `--backfill takes a table name, got ${JSON.stringify(table)}`)
  return { backfill: { table, set: 'new_column = expression', where: 'new_column IS DISTINCT FROM expression', batchSize: 1000, targetBatchMs: 100, pauseMs: 0 } }
}

/** The head a new revision goes on: the one `--head` names, else the only one. */
export function headToBuildOn (graph: RevisionGraph, named: string | null): string {
  if (named !== null) {
    const head = graph.resolveRevision(named)
    if (!graph.heads.includes(head)) fail('not-a-head', `${head} is not a head (heads: ${graph.heads.join(', ')}): a new revision goes on top of one`)
    return head
  }
  const [head, ...others] = graph.heads
  if (head === undefined || others.length > 0) {
    fail('multiple-heads', `several heads (${graph.heads.join(', ')}): a new revision goes on top of one`)
  }
  return head
}

/** `merge -m <rev> <rev>...`, or `merge -m heads`: one revision whose parents are the given heads. */
export async function writeMerge (options: { message: string, dir: string, refs: readonly string[] }): Promise<WrittenRevision> {
  const graph = await loadGraph(options.dir)
  const named = new Set(options.refs.flatMap((ref) => ref === 'heads' ? graph.heads : [graph.resolveRevision(ref)]))
  if (named.size < 2) fail('nothing-to-merge', `a merge needs two or more revisions; got ${[...named].join(', ') || 'none'}`)
  for (const id of named) {
    const descendant = [...named].find((other) => other !== id && graph.ancestors(other).has(id))
    if (descendant !== undefined) fail('not-a-branch', `${id} is an ancestor of ${descendant}: only separate branches can be merged`)
  }
  const parents = graph.all().map((revision) => revision.revision).filter((id) => named.has(id))
  return write(graph, options.dir, options.message, parents)
}

async function write (graph: RevisionGraph, dir: string, message: string, downRevisions: string[], breaking = false, up: RevisionStep[] = []): Promise<WrittenRevision> {
  const description = describe(message)
  const { id, file } = (await newModuleFiles(graph, dir, [description]))[0] as { id: string, file: string }
  const definition: RevisionDefinition = { revision: id, downRevisions, description, createDate: new Date().toISOString(), ...(breaking ? { breaking } : {}), up, down: [] }
  // The new graph must hold before anything is written.
  RevisionGraph.build([...graph.all(), toRevision(definition, file)])
  await writeFile(file, moduleSource(definition), { flag: 'wx' })
  return { revision: id, downRevisions, description, createDate: definition.createDate, file: resolve(file) }
}

/** A message as a one-line description. */
export function describe (message: string): string {
  return message.replace(/\s+/g, ' ').trim()
}

/** A fresh id and file for each description, in `dir`. */
export async function newModuleFiles (graph: RevisionGraph, dir: string, descriptions: readonly string[]): Promise<Array<{ id: string, file: string }>> {
  // A directory of built modules gets a built module; sources (or nothing yet) get TypeScript.
  const files = await moduleFiles(dir)
  const extension = files.length > 0 && !files.some((file) => file.endsWith('.ts')) ? 'js' : 'ts'
  const taken = new Set<string>()
  return descriptions.map((description) => {
    let id = freshId()
    while (graph.has(id) || taken.has(id)) id = freshId()
    taken.add(id)
    return { id, file: resolve(join(dir, `${id}_${slug(description)}.${extension}`)) }
  })
}

export async function loadGraph (dir: string): Promise<RevisionGraph> {
  const files = await moduleFiles(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') fail('no-migrations-dir', `no migrations directory at ${resolve(dir)}`)
    throw error
  })
  // Node 20 cannot import TypeScript: src/migrations is read through the compiler a checkout has.
  // Resolved as this module's own imports are: the `.ts` beside it where the sources run as they are (the tests).
  if (files.some((file) => file.endsWith('.ts'))) register(import.meta.resolve('./typescript-hooks.js'))
  return RevisionGraph.build(await loadRevisions(resolve(dir)))
}

async function moduleFiles (dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((file) => /^[^.].*\.(?:ts|js|mjs)$/.test(file) && !file.endsWith('.d.ts'))
}

function freshId (): string {
  return randomBytes(6).toString('hex')
}

function slug (text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60).replace(/_+$/, '') || 'revision'
}
