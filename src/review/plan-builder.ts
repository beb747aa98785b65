import type { Knex } from 'knex'
import { parsedTarget, planFor, type PlanStep, readDatabaseState, type RevisionGraph, statementsOf as revisionStatements } from '../migrator/index.js'
import { statementFindings } from './findings.js'
import { readLiveFacts, type ColumnRef } from './live-facts.js'
import { excludedRules, runSquawk, squawkVersion, type SquawkViolation } from './squawk.js'
import { unquote } from '../migrator/index.js'
import { analyseStatement, type StatementFacts } from './statements.js'
import { archiveFindings, estimateArchives } from './archive-estimates.js'
import { defaultReviewSettings, type MigrationPlan, type PlanStepReview } from './types.js'

export interface PlanRequest {
  readonly target: string
  readonly direction: 'upgrade' | 'downgrade'
  readonly requestedBy: string
}

/** A plan before it is stored: everything but its id and time. */
export type PlanDraft = Omit<MigrationPlan, 'id' | 'createdAt' | 'approval'>

/**
 * The steps an upgrade or downgrade would run from the database's state now, each linted by
 * Squawk and sized by the catalog. Reads the state and the catalog only: no lock, nothing runs.
 */
export async function buildPlan (knex: Knex, graph: RevisionGraph, request: PlanRequest, largeTableRows: number, archiveMaxBytes = defaultReviewSettings.archiveMaxBytes): Promise<PlanDraft> {
  const state = await readDatabaseState(knex)
  // The engine's own plan (a newer release's database: nothing to do, or the engine's refusal); this only lints it.
  const { steps, to } = planFor(graph, state, { kind: request.direction, target: parsedTarget(request.target) })
  const statements = steps.map((step) => statementsOf(graph, step).map((sql) => ({ sql, facts: analyseStatement(sql) })))
  const [violations, live] = await Promise.all([
    inBatches(steps.map((step, index) => () => lintStep(statementsOf(graph, step), graph.get(step.revision).transactional, statements[index]?.length ?? 0)), squawkRunsAtOnce),
    readLiveFacts(knex, statements.flat().flatMap(({ facts }) => facts.targets.map((target) => target.table)), columnsOf(statements.flat().map(({ facts }) => facts))),
  ])
  const archives = await Promise.all(steps.map(async (step) => estimateArchives(knex, graph.get(step.revision), statementsOf(graph, step))))
  const created = new Set<string>()
  const reviewed: PlanStepReview[] = steps.map((step, stepIndex) => {
    const revision = graph.get(step.revision)
    const findings = (statements[stepIndex] ?? []).flatMap(({ facts }, index) => {
      const found = statementFindings(
        { index, facts, createdBefore: new Set(created), violations: violations[stepIndex]?.[index] ?? [] },
        { largeTableRows, live, acknowledge: revision.lint?.acknowledge ?? {} }
      )
      for (const table of facts.creates) created.add(unquote(table.split('.').at(-1) ?? table))
      return found
    })
    const stepArchives = archives[stepIndex] ?? []
    findings.push(...archiveFindings(revision, statementsOf(graph, step), stepArchives, archiveMaxBytes))
    return { revision: revision.revision, direction: step.direction, description: revision.description, transactional: revision.transactional, sql: [...statementsOf(graph, step)], findings, archives: stepArchives }
  })
  const counted = reviewed.flatMap((step) => step.findings)
  return {
    direction: request.direction,
    target: request.target,
    from: state.heads,
    to,
    requestedBy: request.requestedBy,
    steps: reviewed,
    summary: {
      errors: counted.filter((finding) => finding.severity === 'error' && finding.acknowledged === undefined).length,
      warnings: counted.filter((finding) => finding.severity === 'warning' && finding.acknowledged === undefined).length,
      acknowledged: counted.filter((finding) => finding.acknowledged !== undefined).length,
    },
    lint: { linter: `squawk ${squawkVersion}`, largeTableRows, excludedRules: [...excludedRules] },
  }
}

/** Squawk runs side by side, a few at a time: a plan from base over a long graph starts no process storm. */
const squawkRunsAtOnce = 8

async function inBatches<T> (work: ReadonlyArray<() => Promise<T>>, size: number): Promise<T[]> {
  const results: T[] = []
  for (let start = 0; start < work.length; start += size) {
    results.push(...await Promise.all(work.slice(start, start + size).map((run) => run())))
  }
  return results
}

function statementsOf (graph: RevisionGraph, step: PlanStep): readonly string[] {
  return revisionStatements(graph.get(step.revision), step.direction)
}

function columnsOf (facts: readonly StatementFacts[]): ColumnRef[] {
  return facts.flatMap((fact) => fact.targets.flatMap((target) => target.destructive.flatMap((loss) => loss.kind === 'type-change' ? [{ table: target.table, column: loss.column }] : [])))
}

/**
 * One Squawk run per step, its statements one after the other; each violation goes back to the
 * statement it is in. Squawk's lines are 0-based and its columns 0-based UTF-8 byte offsets.
 */
async function lintStep (statements: readonly string[], transactional: boolean, count: number): Promise<SquawkViolation[][]> {
  const byStatement: SquawkViolation[][] = Array.from({ length: count }, () => [])
  if (count === 0) return byStatement
  const pieces = statements.map((sql) => `${sql.trimEnd().replace(/;+$/, '')};\n`)
  const starts: number[] = []
  let offset = 0
  for (const piece of pieces) {
    starts.push(offset)
    offset += Buffer.byteLength(piece)
  }
  const text = pieces.join('')
  const lineStarts = [0]
  const bytes = Buffer.from(text)
  for (let index = 0; index < bytes.length; index++) if (bytes[index] === 0x0a) lineStarts.push(index + 1)
  for (const violation of await runSquawk(text, { inTransaction: transactional })) {
    const at = (lineStarts[violation.line] ?? 0) + violation.column
    let statement = 0
    while (statement + 1 < starts.length && (starts[statement + 1] ?? Infinity) <= at) statement++
    byStatement[statement]?.push(violation)
  }
  return byStatement
}
