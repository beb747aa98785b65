import type { HistoryEntry, MigrationResult, RevisionDetail, StepStart } from './api.js'

/** Alembic's text: `a1b2c3d4e5f6 -> b2c3d4e5f6g7 (head), add status metadata to model runs`. */
export function historyLine (entry: HistoryEntry, branchPoints: ReadonlySet<string>, current: ReadonlySet<string>): string {
  return `${parentsText(entry.downRevisions)} -> ${entry.revision}${markers(entry, branchPoints, current)}, ${entry.description}`
}

/** `c3d4e5f6g7h8 (head)`: what `current` and `heads` print per revision. */
export function revisionLine (revision: string, isHead: boolean, downRevisions: readonly string[] = []): string {
  return `${revision}${isHead ? ' (head)' : ''}${downRevisions.length > 1 ? ' (mergepoint)' : ''}`
}

/** Alembic's `--verbose` block. */
export function revisionBlock (entry: Pick<HistoryEntry, 'revision' | 'downRevisions' | 'description' | 'createDate' | 'isHead'>, branchPoints: ReadonlySet<string> = new Set()): string {
  const parents = entry.downRevisions.length === 0 ? '<base>' : entry.downRevisions.join(', ')
  return [
    `Rev: ${entry.revision}${markers(entry, branchPoints, new Set())}`,
    `${entry.downRevisions.length > 1 ? 'Merges' : 'Parent'}: ${parents}`,
    '',
    `    ${entry.description}`,
    '',
    `    Revision ID: ${entry.revision}`,
    `    Revises: ${entry.downRevisions.join(', ')}`,
    `    Create Date: ${entry.createDate}`,
    '',
  ].join('\n')
}

export function showText (detail: RevisionDetail): string {
  const sql = (statements: readonly string[]) => statements.length === 0 ? '    (none)' : statements.map((statement) => indent(`${statement};`)).join('\n')
  return [
    revisionBlock(detail).trimEnd(),
    `    Transactional: ${detail.transactional ? 'yes' : 'no'}`,
    `    Checksum: ${detail.checksum}`,
    '',
    'Upgrade:',
    sql(detail.up),
    '',
    'Downgrade:',
    sql(detail.down),
    '',
  ].join('\n')
}

/** Alembic's log line as each step starts, with its place: `Running upgrade 5c1b6116de51 -> a1b2c3d4e5f6, ... (2/5)`. */
export function stepLine (step: StepStart): string {
  return `${stepText(step)} (${step.of === null ? step.index : `${step.index}/${step.of}`})`
}

/** Alembic's words for a step: `Running upgrade 5c1b6116de51 -> a1b2c3d4e5f6, add preprocessing history table`. */
export function stepText (step: Omit<StepStart, 'index' | 'of'>): string {
  const parents = step.downRevisions.join(', ')
  const [from, to] = step.direction === 'up' ? [parents, step.revision] : [step.revision, parents]
  return `Running ${step.direction === 'up' ? 'upgrade' : 'downgrade'} ${from} -> ${to}, ${step.description}`
}

export function migrationSummary (verb: 'upgrade' | 'downgrade' | 'stamp', result: MigrationResult): string {
  const span = `${revisionsText(result.from)} -> ${revisionsText(result.to)}`
  if (verb === 'stamp') return `Stamped ${span}\n`
  if (result.steps.length === 0) return `Nothing to do: the database is at ${revisionsText(result.to)}\n`
  const done = `${result.dryRun ? 'Dry run (rolled back)' : verb === 'upgrade' ? 'Upgraded' : 'Downgraded'} ${span} in ${result.steps.length} step${result.steps.length === 1 ? '' : 's'}`
  if (!result.dryRun) return `${done}\n`
  const sql = result.steps.map((step) => `-- ${step.direction === 'up' ? 'upgrade' : 'downgrade'} ${step.revision}, ${step.description}\n${step.sql.map((statement) => `${statement};`).join('\n')}`)
  return `${sql.join('\n\n')}\n\n${done}\n`
}

export function revisionsText (revisions: readonly string[]): string {
  return revisions.length === 0 ? '<base>' : revisions.join(', ')
}

function parentsText (downRevisions: readonly string[]): string {
  if (downRevisions.length === 0) return '<base>'
  return downRevisions.length === 1 ? downRevisions.join('') : `(${downRevisions.join(', ')})`
}

function markers (entry: Pick<HistoryEntry, 'revision' | 'downRevisions' | 'isHead'>, branchPoints: ReadonlySet<string>, current: ReadonlySet<string>): string {
  return [
    entry.isHead ? ' (head)' : '',
    current.has(entry.revision) ? ' (current)' : '',
    branchPoints.has(entry.revision) ? ' (branchpoint)' : '',
    entry.downRevisions.length > 1 ? ' (mergepoint)' : '',
  ].join('')
}

function indent (text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n')
}
