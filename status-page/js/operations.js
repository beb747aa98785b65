import { api } from './api.js'
import { el, show, time } from './dom.js'

const active = new Set(['queued', 'running', 'paused'])
const number = new Intl.NumberFormat()

/** The step a backfill is running: the last one that carries row counts (the backfill's fields, when present). */
function rowsOf (operation) {
  const step = operation.steps.findLast((candidate) => typeof candidate.rowsDone === 'number')
  if (step === undefined) return null
  return { done: step.rowsDone, total: typeof step.rowsTotal === 'number' ? step.rowsTotal : null, revision: step.revision }
}

function progressOf (operation) {
  const total = operation.stepsTotal
  const steps = total === null
    ? el('p', { class: 'muted' }, 'planning…')
    : el('div', { class: 'progress' },
      el('progress', { max: Math.max(total, 1), value: total === 0 ? 1 : operation.stepsDone, 'aria-label': `operation ${operation.id.slice(0, 8)}: steps done`, 'data-steps-done': operation.stepsDone, 'data-steps-total': total }),
      el('span', {}, `${operation.stepsDone} of ${total} steps`))
  const rows = rowsOf(operation)
  if (rows === null) return steps
  return [steps, el('div', { class: 'progress' },
    rows.total === null
      ? el('progress', { 'aria-label': `operation ${operation.id.slice(0, 8)}: rows of ${rows.revision}` })
      : el('progress', { max: Math.max(rows.total, rows.done, 1), value: rows.done, 'aria-label': `operation ${operation.id.slice(0, 8)}: rows of ${rows.revision}` }),
    el('span', {}, `${number.format(rows.done)}${rows.total === null ? '' : ` of ~${number.format(rows.total)}`} rows`))]
}

function cellsOf (operation) {
  return [
    el('td', {}, time(operation.startedAt)),
    el('td', {}, operation.kind, operation.dryRun ? el('span', { class: 'muted' }, ' (dry run)') : null),
    el('td', {}, el('code', {}, operation.target)),
    el('td', { class: `state status-${operation.status}` }, operation.status),
    el('td', {}, active.has(operation.status)
      ? progressOf(operation)
      : operation.status === 'failed'
        ? el('span', { class: 'problem' }, operation.error?.message ?? 'failed')
        : `${operation.steps.length} step${operation.steps.length === 1 ? '' : 's'}`),
    el('td', {}, operation.actor),
  ]
}

/**
 * The latest operations, newest first. Rows are kept by operation id and updated in place, so a
 * running operation's bar moves without the table being rebuilt under the reader. Answers
 * whether one is still under way, for the caller to poll faster.
 */
export function createOperationsPanel (container) {
  const body = el('tbody')
  const rows = new Map()
  let shown = false
  return async function refreshOperations () {
    const { operations } = await api('/migrations/operations?limit=15')
    if (operations.length === 0) {
      show(container, el('p', { class: 'muted' }, 'No upgrade, downgrade or stamp yet.'))
      shown = false
      return false
    }
    if (!shown) {
      show(container, el('table', {},
        el('thead', {}, el('tr', {}, ['Started', 'Kind', 'Target', 'Status', 'Progress', 'By'].map((heading) => el('th', { scope: 'col' }, heading)))),
        body))
      shown = true
    }
    const seen = new Set()
    for (const operation of operations) {
      seen.add(operation.id)
      let row = rows.get(operation.id)
      if (row === undefined) {
        row = el('tr', { 'data-operation': operation.id })
        rows.set(operation.id, row)
      }
      row.dataset.status = operation.status
      row.replaceChildren(...cellsOf(operation))
    }
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.remove()
        rows.delete(id)
      }
    }
    body.replaceChildren(...operations.map((operation) => rows.get(operation.id)))
    return operations.some((operation) => active.has(operation.status))
  }
}
