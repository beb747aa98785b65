import { api } from './api.js'
import { el, problemText, show, time } from './dom.js'

const sameSet = (a, b) => a.length === b.length && a.every((item) => b.includes(item))

function findingsOf (step) {
  if (step.findings.length === 0) return el('p', { class: 'muted' }, 'no findings')
  return el('ul', {}, step.findings.map((finding) => el('li', { class: `finding-${finding.severity}` },
    `${finding.severity} `, el('code', {}, finding.rule), `: ${finding.message}`,
    finding.table === undefined ? null : el('span', { class: 'muted' }, ` (table ${finding.table}${typeof finding.estimatedRows === 'number' ? `, ~${finding.estimatedRows} rows` : ''})`),
    finding.acknowledged === undefined ? null : el('span', { class: 'muted' }, ` — acknowledged: ${finding.acknowledged}`))))
}

/**
 * The approve control. An admin token gets the button (and the override reason a plan with
 * errors needs); any other token sees it disabled, with why, tied to it for screen readers.
 */
function approvalOf (plan, scope, onApproved) {
  const id = plan.id
  const whyId = `approve-why-${id}`
  const needsOverride = plan.summary.errors > 0
  if (scope !== 'admin') {
    return el('div', { class: 'approve' },
      el('button', { type: 'button', disabled: true, 'aria-describedby': whyId, 'data-approve': id }, 'Approve'),
      el('span', { id: whyId, class: 'muted' }, scope === null
        ? 'Approving needs an admin token; enter one above.'
        : `Approving needs an admin token; this token has the '${scope}' scope.`))
  }
  const reason = needsOverride
    ? el('input', { id: `override-${id}`, type: 'text', required: true, maxlength: 2000, 'aria-describedby': whyId, placeholder: 'why it may run despite its errors' })
    : null
  const outcome = el('p', { role: 'status', 'aria-live': 'polite' })
  const button = el('button', { type: 'button', 'data-approve': id, 'aria-describedby': needsOverride ? whyId : undefined }, needsOverride ? 'Approve with override' : 'Approve')
  button.addEventListener('click', async () => {
    const override = reason?.value.trim() ?? ''
    if (needsOverride && override === '') {
      show(outcome, problemText(new Error('This plan has errors: say why it may run anyway.')))
      reason.focus()
      return
    }
    button.disabled = true
    try {
      const approved = await api(`/migrations/plans/${id}/approve`, { method: 'POST', body: needsOverride ? { override } : {} })
      show(outcome, `Approved by ${approved.approval.approvedBy}.`)
      onApproved(approved)
    } catch (error) {
      button.disabled = false
      show(outcome, problemText(error))
    }
  })
  return el('div', { class: 'approve' },
    needsOverride ? [el('label', { for: `override-${id}` }, 'Override reason'), reason] : null,
    button,
    needsOverride ? el('span', { id: whyId, class: 'muted' }, `${plan.summary.errors} unacknowledged error${plan.summary.errors === 1 ? '' : 's'}: an override reason is required and kept on the plan.`) : null,
    outcome)
}

/** `GET /migrations/plans?status=pending`: each plan awaiting approval, its steps and findings. Answers the plans. */
export async function refreshPlans (container, { scope, current, onApproved }) {
  const { plans } = await api('/migrations/plans?status=pending&limit=20')
  if (plans.length === 0) {
    show(container, el('p', { class: 'muted' }, 'No plan awaits approval.'))
    return plans
  }
  show(container, plans.map((plan) => el('article', { class: 'plan', 'data-plan': plan.id, 'aria-labelledby': `plan-${plan.id}` },
    el('h3', { id: `plan-${plan.id}` }, `${plan.direction} to ${plan.target}`, el('span', { class: 'muted' }, ` · plan ${plan.id.slice(0, 8)}`)),
    el('p', {}, `From ${plan.from.join(', ') || 'base'} to ${plan.to.join(', ') || 'base'}; asked by ${plan.requestedBy} `, time(plan.createdAt), '. ',
      `${plan.summary.errors} error${plan.summary.errors === 1 ? '' : 's'}, ${plan.summary.warnings} warning${plan.summary.warnings === 1 ? '' : 's'}.`),
    current !== null && !sameSet(plan.from, current.current)
      ? el('p', { class: 'problem' }, 'Stale: the database has moved since this plan was made; it can no longer run.')
      : null,
    el('ol', {}, plan.steps.map((step) => el('li', {},
      el('code', {}, step.revision), ` ${step.direction}: ${step.description}`, step.transactional ? '' : el('span', { class: 'muted' }, ' (outside a transaction)'),
      findingsOf(step)))),
    approvalOf(plan, scope, onApproved))))
  return plans
}
