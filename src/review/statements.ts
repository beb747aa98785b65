import { nameList, splitTopLevel, unquote, withoutComments } from '../migrator/index.js'

/**
 * What a statement does to the tables it names, read from its text: Squawk knows the rules but
 * not which table a statement takes which lock on, and the live facts are looked up by table.
 * It recognises the DDL revisions are made of; anything else names no table and so gets no facts.
 */
export type LockLevel = 'ACCESS EXCLUSIVE' | 'EXCLUSIVE' | 'SHARE ROW EXCLUSIVE' | 'SHARE' | 'SHARE UPDATE EXCLUSIVE' | 'ROW EXCLUSIVE'

export type Destructive =
  | { readonly kind: 'drop-table' }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'drop-column', readonly column: string }
  | { readonly kind: 'type-change', readonly column: string, readonly type: string }

export interface TableTarget {
  /** As written, schema-qualified or quoted: `to_regclass` reads it as PostgreSQL would. */
  readonly table: string
  /** The name is an index's (DROP INDEX): the facts are those of its table. */
  readonly isIndex: boolean
  readonly lock: LockLevel
  readonly destructive: readonly Destructive[]
}

export interface StatementFacts {
  /** A DO block or dynamic SQL: no linter sees what it runs. */
  readonly opaque: boolean
  readonly creates: readonly string[]
  readonly targets: readonly TableTarget[]
  /** An UPDATE: in one transaction (`single`), or a revision's backfill step, in keyset batches. */
  readonly update?: 'single' | 'batched'
}

/** How the engine writes a backfill step as text (`backfillText`): the plan and its lint see it batched. */
const batchedBackfill = /^\s*--\s*batched backfill\b/i

const identifier = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`
const qualified = String.raw`${identifier}(?:\s*\.\s*${identifier})?`
const ifExists = String.raw`(?:IF\s+EXISTS\s+)?`
const ifNotExists = String.raw`(?:IF\s+NOT\s+EXISTS\s+)?`

const patterns = {
  createTable: new RegExp(String.raw`^CREATE\s+(?:(?:GLOBAL\s+|LOCAL\s+)?(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+${ifNotExists}(${qualified})`, 'i'),
  createIndex: new RegExp(String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?${ifNotExists}(?:${qualified}\s+)?ON\s+(?:ONLY\s+)?(${qualified})`, 'i'),
  dropIndex: new RegExp(String.raw`^DROP\s+INDEX\s+(CONCURRENTLY\s+)?${ifExists}(${qualified}(?:\s*,\s*${qualified})*)`, 'i'),
  dropTable: new RegExp(String.raw`^DROP\s+TABLE\s+${ifExists}(${qualified}(?:\s*,\s*${qualified})*)`, 'i'),
  truncate: new RegExp(String.raw`^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(${qualified}(?:\s*,\s*${qualified})*)`, 'i'),
  alterTable: new RegExp(String.raw`^ALTER\s+TABLE\s+${ifExists}(?:ONLY\s+)?(${qualified})\s+([\s\S]*)$`, 'i'),
  rewrite: new RegExp(String.raw`^(?:VACUUM\s+(?:\(\s*)?FULL\b[^;]*?|CLUSTER\s+(?:VERBOSE\s+)?|REINDEX\s+TABLE\s+)(${qualified})\s*$`, 'i'),
  dml: new RegExp(String.raw`^(?:UPDATE\s+(?:ONLY\s+)?|DELETE\s+FROM\s+(?:ONLY\s+)?|INSERT\s+INTO\s+)(${qualified})`, 'i'),
  trigger: new RegExp(String.raw`^CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+[\s\S]*?\bON\s+(${qualified})`, 'i'),
} as const

const lockRank: readonly LockLevel[] = ['ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']

export function strongerLock (a: LockLevel, b: LockLevel): LockLevel {
  return lockRank.indexOf(a) >= lockRank.indexOf(b) ? a : b
}

/** Blocks only what `lock` conflicts with: what a reader of a finding needs to know. */
export function blocks (lock: LockLevel): string {
  switch (lock) {
    case 'ACCESS EXCLUSIVE': return 'every read and write'
    case 'EXCLUSIVE': return 'every write and most reads'
    case 'SHARE ROW EXCLUSIVE':
    case 'SHARE': return 'every write'
    case 'SHARE UPDATE EXCLUSIVE': return 'other schema changes and VACUUM, not reads or writes'
    case 'ROW EXCLUSIVE': return 'schema changes that lock the table, not reads or writes'
  }
}

export function analyseStatement (sql: string): StatementFacts {
  const text = withoutComments(sql).trim()
  const opaque = /^DO\b/i.test(text) || /\bEXECUTE\b/i.test(text)
  if (opaque) return { opaque, creates: [], targets: [] }
  let match = patterns.createTable.exec(text)
  if (match !== null) return { opaque, creates: [match[1] as string], targets: [] }
  match = patterns.createIndex.exec(text)
  if (match !== null) return only(match[2] as string, match[1] === undefined ? 'SHARE' : 'SHARE UPDATE EXCLUSIVE')
  match = patterns.dropIndex.exec(text)
  if (match !== null) {
    const lock = match[1] === undefined ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE'
    return { opaque, creates: [], targets: nameList(match[2] as string).map((table) => ({ table, isIndex: true, lock, destructive: [] })) }
  }
  match = patterns.dropTable.exec(text)
  if (match !== null) return { opaque, creates: [], targets: nameList(match[1] as string).map((table) => ({ table, isIndex: false, lock: 'ACCESS EXCLUSIVE', destructive: [{ kind: 'drop-table' }] })) }
  match = patterns.truncate.exec(text)
  if (match !== null) return { opaque, creates: [], targets: nameList(match[1] as string).map((table) => ({ table, isIndex: false, lock: 'ACCESS EXCLUSIVE', destructive: [{ kind: 'truncate' }] })) }
  match = patterns.alterTable.exec(text)
  if (match !== null) return { opaque, creates: [], targets: [alterTable(match[1] as string, match[2] as string)] }
  match = patterns.rewrite.exec(text)
  if (match !== null) return only(match[1] as string, 'ACCESS EXCLUSIVE')
  match = patterns.trigger.exec(text)
  if (match !== null) return only(match[1] as string, 'SHARE ROW EXCLUSIVE')
  match = patterns.dml.exec(text)
  if (match !== null) {
    const facts = only(match[1] as string, 'ROW EXCLUSIVE')
    return /^UPDATE\b/i.test(text) ? { ...facts, update: batchedBackfill.test(sql) ? 'batched' : 'single' } : facts
  }
  return { opaque, creates: [], targets: [] }
}

function only (table: string, lock: LockLevel): StatementFacts {
  return { opaque: false, creates: [], targets: [{ table, isIndex: false, lock, destructive: [] }] }
}

/** The strongest lock of its actions: each `ALTER TABLE` action takes its own. */
function alterTable (table: string, actions: string): TableTarget {
  let lock: LockLevel | null = null
  const destructive: Destructive[] = []
  for (const action of splitTopLevel(actions)) {
    lock = lock === null ? actionLock(action) : strongerLock(lock, actionLock(action))
    const dropColumn = new RegExp(String.raw`^DROP\s+(?:COLUMN\s+)?${ifExists}(${identifier})`, 'i').exec(action)
    if (dropColumn !== null && !/^DROP\s+CONSTRAINT\b/i.test(action)) destructive.push({ kind: 'drop-column', column: unquote(dropColumn[1] as string) })
    const typeChange = new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${identifier})\s+(?:SET\s+DATA\s+)?TYPE\s+(.+?)(?:\s+(?:COLLATE|USING)\b[\s\S]*)?$`, 'i').exec(action)
    if (typeChange !== null) destructive.push({ kind: 'type-change', column: unquote(typeChange[1] as string), type: (typeChange[2] as string).trim() })
  }
  return { table, isIndex: false, lock: lock ?? 'ACCESS EXCLUSIVE', destructive }
}

function actionLock (action: string): LockLevel {
  if (/^VALIDATE\s+CONSTRAINT\b/i.test(action)) return 'SHARE UPDATE EXCLUSIVE'
  if (/^ALTER\s+(?:COLUMN\s+)?\S+\s+SET\s+STATISTICS\b/i.test(action)) return 'SHARE UPDATE EXCLUSIVE'
  if (/^ADD\s+(?:CONSTRAINT\s+\S+\s+)?FOREIGN\s+KEY\b/i.test(action)) return 'SHARE ROW EXCLUSIVE'
  if (/^(?:ENABLE|DISABLE)\s+TRIGGER\b/i.test(action)) return 'SHARE ROW EXCLUSIVE'
  return 'ACCESS EXCLUSIVE'
}
