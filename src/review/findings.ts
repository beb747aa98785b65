import type { LiveFacts, TableFacts } from './live-facts.js'
import type { SquawkViolation } from './squawk.js'
import { unquote } from '../migrator/index.js'
import { blocks, type Destructive, type StatementFacts, type TableTarget } from './statements.js'
import type { Finding, Severity } from './types.js'
import { isNarrowing } from './types-narrowing.js'

/**
 * Rules about a lock held for as long as a statement works through the whole table: the table's
 * size decides. (`prefer-text-field` is advice about later changes, kept at Squawk's level: adding
 * a varchar column is a catalog change, and a varchar type change is `changing-column-type` too.)
 */
const blockingRules = new Set([
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
  'changing-column-type',
  'adding-field-with-default',
  'adding-not-nullable-field',
  'adding-foreign-key-constraint',
  'constraint-missing-not-valid',
  'disallowed-unique-constraint',
  'adding-serial-primary-key-field',
  'ban-alter-domain-with-add-constraint',
])

/** Squawk's rules for what loses data: Squawk cannot say how much, the catalog can. */
const destructiveRules: Record<string, Destructive['kind']> = {
  'ban-drop-table': 'drop-table',
  'ban-drop-column': 'drop-column',
  'ban-truncate-cascade': 'truncate',
}

export interface StatementContext {
  readonly index: number
  readonly facts: StatementFacts
  /** Tables created earlier in the same plan, lower-cased as PostgreSQL folds them. */
  readonly createdBefore: ReadonlySet<string>
  readonly violations: readonly SquawkViolation[]
}

export interface FindingSettings {
  readonly largeTableRows: number
  readonly live: LiveFacts
  readonly acknowledge: Readonly<Record<string, string>>
}

/** Squawk's violations on one statement, sized by the live facts, plus what Squawk cannot see. */
export function statementFindings (context: StatementContext, settings: FindingSettings): Finding[] {
  const findings: Finding[] = []
  const { facts, index } = context
  const target = facts.targets[0]
  const where = target === undefined ? null : describeTarget(target, context, settings)
  const unreadable = facts.opaque || context.violations.some((violation) => violation.rule === 'syntax-error')
  if (unreadable) {
    findings.push({
      rule: 'opaque',
      severity: 'warning',
      message: facts.opaque
        ? 'a DO block or dynamic SQL: no linter sees the statements it runs, so a person must review it'
        : 'Squawk cannot parse this statement, so no rule was checked: a person must review it',
      statement: index,
    })
  }
  const flagged = new Set<Destructive['kind']>()
  // Squawk reports each dropped column of a statement in order: the nth report is the nth column.
  const seen = new Map<Destructive['kind'], number>()
  for (const violation of context.violations) {
    if (violation.rule === 'syntax-error') continue
    const destructive = destructiveRules[violation.rule]
    if (destructive !== undefined) flagged.add(destructive)
    let severity = levelOf(violation.level)
    let message = violation.message
    if (where !== null && blockingRules.has(violation.rule)) {
      severity = where.severity
      message = `${message} ${where.text}`
    } else if (facts.creates.length > 0 && blockingRules.has(violation.rule)) {
      severity = 'info'
      message = `${message} The table is created by this statement, so nothing waits on it.`
    } else if (destructive !== undefined) {
      severity = atLeastWarning(severity)
      const nth = seen.get(destructive) ?? 0
      seen.set(destructive, nth + 1)
      message = `${message} ${lossText(destructive, where, target?.destructive.filter((loss) => loss.kind === destructive)[nth])}`
    }
    findings.push({ rule: violation.rule, severity, message, statement: index, ...where?.fields })
  }
  const update = updateFinding(context, settings, where)
  if (update !== null) findings.push(update)
  if (target !== undefined) {
    for (const loss of target.destructive) {
      const finding = lossFinding(loss, target, flagged, where, context, settings)
      if (finding !== null) findings.push(finding)
    }
  }
  return findings.map((finding) => {
    const reason = settings.acknowledge[finding.rule]
    return reason === undefined ? finding : { ...finding, acknowledged: reason }
  })
}

interface Where {
  readonly severity: Severity
  readonly text: string
  readonly rows: number | null
  readonly table: string
  readonly fields: Pick<Finding, 'table' | 'estimatedRows' | 'sizeBytes' | 'lock'>
}

/** The severity a blocking statement earns on this table, and the sentence that says why. */
function describeTarget (target: TableTarget, context: StatementContext, settings: FindingSettings): Where {
  const live = settings.live.tables.get(target.table)
  const name = live?.table ?? unquote(target.table.split('.').at(-1) ?? target.table)
  const lock = `the ${target.lock} lock blocks ${blocks(target.lock)} while it runs`
  if (context.createdBefore.has(unquote(target.table)) || context.createdBefore.has(name)) {
    return { severity: 'info', text: `${name} is created earlier in this plan, so it is empty and nothing waits on it (${lock}).`, rows: 0, table: name, fields: { table: name, estimatedRows: 0, lock: target.lock } }
  }
  if (live === undefined) {
    return { severity: 'warning', text: `${name} does not exist yet: its size cannot be told (${lock}).`, rows: null, table: name, fields: { table: name, lock: target.lock } }
  }
  return { severity: sizeSeverity(live, settings.largeTableRows), text: `On ${name} (${sizeText(live)}), ${lock}.`, rows: live.estimatedRows, table: name, fields: { table: name, estimatedRows: live.estimatedRows, sizeBytes: live.sizeBytes, lock: target.lock } }
}

/**
 * An UPDATE in one transaction holds a lock on every row it touches until it commits: on a large
 * table writers queue behind it, the table bloats, and cut off it starts over. A backfill step
 * does the same in short batches with a checkpoint.
 */
function updateFinding (context: StatementContext, settings: FindingSettings, where: Where | null): Finding | null {
  const { update } = context.facts
  if (update === undefined || where === null) return null
  if (update === 'batched') {
    return { rule: 'batched-backfill', severity: 'info', message: `Runs in keyset batches, each its own short transaction with a checkpoint: writers wait at most one batch, and a run cut off resumes. ${where.text}`, statement: context.index, ...where.fields }
  }
  if (where.rows === null || where.rows < settings.largeTableRows) return null
  return {
    rule: 'unbatched-update',
    severity: 'error',
    message: `One UPDATE over ${where.table} (${rowsText(where.rows)}) locks every row it changes until it commits: writes to them wait behind it, the table bloats, and cut off it starts over. Write it as a backfill step instead: { backfill: { table: '${where.table}', set: '<the SET list>', where: '<rows still to do>' } } runs it in short keyset batches with a checkpoint.`,
    statement: context.index,
    ...where.fields,
  }
}

function sizeSeverity (live: TableFacts, largeTableRows: number): Severity {
  if (live.estimatedRows === null) return 'warning'
  return live.estimatedRows >= largeTableRows ? 'error' : 'info'
}

function lossFinding (loss: Destructive, target: TableTarget, flagged: ReadonlySet<Destructive['kind']>, where: Where | null, context: StatementContext, settings: FindingSettings): Finding | null {
  const fields = where?.fields ?? {}
  if (loss.kind === 'type-change') {
    const current = settings.live.columnTypes.get(`${target.table}.${loss.column}`)
    if (current === undefined || !isNarrowing(current, loss.type)) return null
    return {
      rule: 'narrowing-type-change',
      severity: 'warning',
      message: `${where?.table ?? target.table}.${loss.column} narrows from ${current} to ${loss.type}: the change fails if any of ${rowsText(where?.rows ?? null)} holds a value that does not fit.`,
      statement: context.index,
      ...fields,
    }
  }
  if (flagged.has(loss.kind)) return null
  return { rule: 'destructive-change', severity: 'warning', message: lossText(loss.kind, where, loss), statement: context.index, ...fields }
}

function lossText (kind: Destructive['kind'], where: Where | null, loss?: Destructive): string {
  const table = where?.table ?? 'the table'
  const rows = rowsText(where?.rows ?? null)
  switch (kind) {
    case 'drop-table': return `Drops ${table} and its ${rows}.`
    case 'truncate': return `Deletes the ${rows} of ${table}.`
    case 'drop-column': return `Drops the values of ${loss?.kind === 'drop-column' ? `${table}.${loss.column}` : `a column of ${table}`} in ${rows}.`
    case 'type-change': return `Rewrites the ${rows} of ${table}.`
  }
}

function rowsText (rows: number | null): string {
  if (rows === null) return 'rows (how many is unknown: the table was never analyzed)'
  return `~${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}`
}

function sizeText (live: TableFacts): string {
  return `${live.estimatedRows === null ? 'never analyzed' : rowsText(live.estimatedRows)}, ${bytesText(live.sizeBytes)}`
}

/** As `pg_size_pretty` writes it. */
export function bytesText (bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 10 * 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${Math.round(value)} ${units[unit]}`
}

function levelOf (level: string): Severity {
  const lower = level.toLowerCase()
  return lower === 'error' ? 'error' : lower === 'warning' ? 'warning' : 'info'
}

function atLeastWarning (severity: Severity): Severity {
  return severity === 'info' ? 'warning' : severity
}
