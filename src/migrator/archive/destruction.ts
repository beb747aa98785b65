/**
 * What a revision's statement destroys, and what it re-creates, read from its text. The engine
 * archives the one before the statement runs and restores into the other after it. Conservative:
 * a `DELETE` or `UPDATE` whose rows cannot be told from its text (a `FROM`, `USING`, `WITH` or
 * `RETURNING` clause) archives the whole table; a DO block or dynamic SQL (`EXECUTE`) is opaque
 * and archives nothing: the plan's `opaque-statement` finding names it for a reviewer.
 */
import { nameList, normalisedName, splitTopLevel, unquote, withoutComments } from '../sql-text.js'

export type ArchiveKind = 'drop-table' | 'truncate' | 'drop-column' | 'type-change' | 'update' | 'delete'

export interface Destruction {
  readonly kind: ArchiveKind
  /** As written, maybe schema-qualified: `to_regclass` reads it as PostgreSQL would. */
  readonly table: string
  /** The destroyed columns, unquoted; null for whole rows. */
  readonly columns: readonly string[] | null
  /** The rows destroyed, as the revision's own condition; null for every row. */
  readonly where: string | null
  /** The alias the condition names the table by. */
  readonly alias: string | null
}

export interface StatementArchiving {
  readonly destroys: readonly Destruction[]
  /** Tables this statement creates: an archive of a dropped table of that name comes back. */
  readonly createsTables: readonly string[]
  /** Tables this statement adds columns to: an archive of dropped columns of it comes back. */
  readonly addsColumnsTo: readonly string[]
  /** `-- archive: false <reason>` in the statement: the reason, never empty. */
  readonly optOut: string | null
}

const identifier = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`
const qualified = String.raw`${identifier}(?:\s*\.\s*${identifier})?`
const ifExists = String.raw`(?:IF\s+EXISTS\s+)?`

const patterns = {
  createTable: new RegExp(String.raw`^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(${qualified})`, 'i'),
  dropTable: new RegExp(String.raw`^DROP\s+TABLE\s+${ifExists}(${qualified}(?:\s*,\s*${qualified})*)`, 'i'),
  truncate: new RegExp(String.raw`^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(${qualified}(?:\s*,\s*${qualified})*)`, 'i'),
  alterTable: new RegExp(String.raw`^ALTER\s+TABLE\s+${ifExists}(?:ONLY\s+)?(${qualified})\s+([\s\S]*)$`, 'i'),
  dropColumn: new RegExp(String.raw`^DROP\s+(?:COLUMN\s+)?${ifExists}(${identifier})`, 'i'),
  typeChange: new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${identifier})\s+(?:SET\s+DATA\s+)?TYPE\b`, 'i'),
  addColumn: /^ADD\s+(?!CONSTRAINT\b|PRIMARY\b|UNIQUE\b|CHECK\b|FOREIGN\b|EXCLUDE\b)/i,
  update: new RegExp(String.raw`^UPDATE\s+(?:ONLY\s+)?(${qualified})(?:\s+(?:AS\s+)?(?!SET\b)(${identifier}))?\s+SET\s+([\s\S]*)$`, 'i'),
  delete: new RegExp(String.raw`^DELETE\s+FROM\s+(?:ONLY\s+)?(${qualified})(?:\s+(?:AS\s+)?(?!WHERE\b|USING\b|RETURNING\b)(${identifier}))?([\s\S]*)$`, 'i'),
  optOut: /--\s*archive:\s*false\b[ \t:—-]*([^\n]*)/i,
} as const

/** Clauses after which the rows a statement touches are not a plain `WHERE`: the whole table is archived. */
const unclearClause = /\b(?:FROM|USING|RETURNING|WITH)\b/i

/** `IS [NOT] DISTINCT FROM` is a comparison, not a clause: a backfill's predicate is often one. */
function unclear (text: string): boolean {
  return unclearClause.test(stripStrings(text).replace(/\bDISTINCT\s+FROM\b/gi, 'DISTINCT'))
}

export function archivingOf (sql: string): StatementArchiving {
  const optOut = patterns.optOut.exec(sql)?.[1]?.trim() ?? null
  const text = withoutComments(sql).trim().replace(/;\s*$/, '')
  const facts = { optOut: optOut === '' ? null : optOut, optedOut: optOut !== null }
  if (/^DO\b/i.test(text) || /\bEXECUTE\b/i.test(text)) return result([], {}, facts)
  let match = patterns.createTable.exec(text)
  if (match !== null) return result([], { tables: [normalisedName(match[1] as string)] }, facts)
  match = patterns.dropTable.exec(text)
  if (match !== null) return result(nameList(match[1] as string).map((table) => whole('drop-table', table)), {}, facts)
  match = patterns.truncate.exec(text)
  if (match !== null) return result(nameList(match[1] as string).map((table) => whole('truncate', table)), {}, facts)
  match = patterns.alterTable.exec(text)
  if (match !== null) return alterTable(normalisedName(match[1] as string), match[2] as string, facts)
  match = patterns.update.exec(text)
  if (match !== null) return result([update(normalisedName(match[1] as string), match[2] ?? null, match[3] as string)], {}, facts)
  match = patterns.delete.exec(text)
  if (match !== null) return result([deleted(normalisedName(match[1] as string), match[2] ?? null, match[3] as string)], {}, facts)
  return result([], {}, facts)
}

interface OptOutFacts { readonly optOut: string | null, readonly optedOut: boolean }

function result (destroys: Destruction[], creates: { tables?: string[], columns?: string[] }, facts: OptOutFacts): StatementArchiving {
  // An opt-out without a reason is no opt-out: the statement is archived as any other.
  return { destroys, createsTables: creates.tables ?? [], addsColumnsTo: creates.columns ?? [], optOut: facts.optedOut && facts.optOut !== null && destroys.length > 0 ? facts.optOut : null }
}

function whole (kind: ArchiveKind, table: string): Destruction {
  return { kind, table, columns: null, where: null, alias: null }
}

function alterTable (table: string, actions: string, facts: OptOutFacts): StatementArchiving {
  const dropped: string[] = []
  const retyped: string[] = []
  let adds = false
  for (const action of splitTopLevel(actions)) {
    const dropColumn = patterns.dropColumn.exec(action)
    if (dropColumn !== null && !/^DROP\s+CONSTRAINT\b/i.test(action)) dropped.push(unquote(dropColumn[1] as string))
    const typeChange = patterns.typeChange.exec(action)
    if (typeChange !== null) retyped.push(unquote(typeChange[1] as string))
    if (patterns.addColumn.test(action)) adds = true
  }
  const destroys: Destruction[] = []
  if (dropped.length > 0) destroys.push({ kind: 'drop-column', table, columns: dropped, where: null, alias: null })
  if (retyped.length > 0) destroys.push({ kind: 'type-change', table, columns: retyped, where: null, alias: null })
  return result(destroys, { columns: adds ? [table] : [] }, facts)
}

function update (table: string, alias: string | null, rest: string): Destruction {
  const where = /\bWHERE\b/i.exec(rest)
  const assignments = where === null ? rest : rest.slice(0, where.index)
  const condition = where === null ? null : rest.slice(where.index + where[0].length).trim()
  if (unclear(assignments) || (condition !== null && unclear(condition))) return whole('update', table)
  const columns = splitTopLevel(assignments).flatMap((assignment) => {
    const target = assignment.slice(0, assignment.indexOf('=')).trim()
    const list = target.startsWith('(') ? splitTopLevel(target.slice(1, -1)) : [target]
    return list.map((column) => unquote(column.trim()))
  })
  return { kind: 'update', table, columns: [...new Set(columns)], where: condition, alias: alias === null ? null : unquote(alias) }
}

function deleted (table: string, alias: string | null, rest: string): Destruction {
  const trimmed = rest.trim()
  if (trimmed === '') return { ...whole('delete', table), alias: alias === null ? null : unquote(alias) }
  const where = /^WHERE\b/i.exec(trimmed)
  if (where === null || unclear(trimmed)) return whole('delete', table)
  return { kind: 'delete', table, columns: null, where: trimmed.slice(where[0].length).trim(), alias: alias === null ? null : unquote(alias) }
}

/** String literals cannot hold a clause: `WHERE note = 'from'` is a plain condition. */
function stripStrings (text: string): string {
  return text.replace(/'(?:[^']|'')*'/g, "''")
}
