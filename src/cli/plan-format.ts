import type { Plan } from './api.js'
import { revisionsText } from './format.js'

type Finding = Plan['steps'][number]['findings'][number]

/** A plan as Alembic would print SQL, each finding under the statement it is about. */
export function planText (plan: Plan): string {
  const { errors, warnings, acknowledged } = plan.summary
  const head = [
    `Plan ${plan.id}: ${plan.direction} ${revisionsText(plan.from)} -> ${revisionsText(plan.to)} (target ${plan.target}), ${count(plan.steps.length, 'step')}`,
    `Findings: ${count(errors, 'error')}, ${count(warnings, 'warning')}${acknowledged > 0 ? `, ${acknowledged} acknowledged` : ''}; ${plan.lint.linter}, large tables from ${plan.lint.largeTableRows.toLocaleString('en-US')} rows`,
    approvalLine(plan),
  ]
  const steps = plan.steps.map((step) => {
    const statements = step.sql.map((sql, index) => {
      const notes = step.findings.filter((finding) => finding.statement === index).map(findingLine)
      return [`${sql};`, ...notes].join('\n')
    })
    return [`-- ${step.direction === 'up' ? 'upgrade' : 'downgrade'} ${step.revision}, ${step.description}${step.transactional ? '' : ' (outside a transaction)'}`, ...statements].join('\n')
  })
  const excluded = `-- not checked: ${plan.lint.excludedRules.map((entry) => `${entry.rule} (${entry.reason})`).join('; ')}`
  return `${[head.join('\n'), ...steps, excluded].join('\n\n')}\n`
}

export function approvalText (plan: Plan): string {
  return `${approvalLine(plan)}\nApply it with: aip-schema upgrade --plan ${plan.id}\n`
}

/** One line per unacknowledged error, for `check --lint`. */
export function unacknowledgedErrors (plan: Plan): string[] {
  return plan.steps.flatMap((step) => step.findings
    .filter((finding) => finding.severity === 'error' && finding.acknowledged === undefined)
    .map((finding) => `lint: ${step.revision} statement ${finding.statement + 1}: ${finding.rule}: ${finding.message}`))
}

function approvalLine (plan: Plan): string {
  if (plan.approval === null) return `Not approved (asked for by ${plan.requestedBy} at ${plan.createdAt})`
  const override = plan.approval.override === null ? '' : `, overriding its errors: ${plan.approval.override}`
  return `Approved by ${plan.approval.approvedBy} at ${plan.approval.approvedAt}${override}`
}

function findingLine (finding: Finding): string {
  const facts = [
    finding.table,
    finding.estimatedRows === undefined ? undefined : finding.estimatedRows === null ? 'rows unknown' : `~${finding.estimatedRows.toLocaleString('en-US')} rows`,
    finding.lock === undefined ? undefined : `${finding.lock} lock`,
  ].filter((fact) => fact !== undefined)
  const label = `${finding.severity.toUpperCase()} ${finding.rule}${facts.length > 0 ? ` [${facts.join(', ')}]` : ''}`
  const acknowledged = finding.acknowledged === undefined ? '' : `\n--   acknowledged: ${finding.acknowledged}`
  return `--   ${label}: ${finding.message}${acknowledged}`
}

function count (n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
