import { api } from './api.js'
import { el, problemText, show } from './dom.js'

/** One revision's SQL (`GET /migrations/revisions/{rev}`) and what the pending plans found in it. */
export async function showRevision (container, revision, plans) {
  show(container, el('h3', { id: 'revision-detail-title' }, `Revision ${revision}`), el('p', { class: 'muted' }, 'Loading…'))
  let detail
  try {
    detail = await api(`/migrations/revisions/${encodeURIComponent(revision)}`)
  } catch (error) {
    const lacking = error.status === 404
    show(container, el('h3', { id: 'revision-detail-title' }, `Revision ${revision}`),
      lacking ? el('p', {}, 'This release does not have this revision: a newer release applied it, so its SQL is that release’s to show.') : problemText(error))
    return
  }
  const findings = plans.flatMap((plan) => plan.steps
    .filter((step) => step.revision === detail.revision)
    .flatMap((step) => step.findings.map((finding) => ({ plan, step, finding }))))
  show(container,
    el('h3', { id: 'revision-detail-title' }, `Revision ${detail.revision}`),
    el('p', {}, detail.description),
    el('dl', {},
      el('dt', {}, 'Down revisions'), el('dd', {}, detail.downRevisions.join(', ') || 'none (a root)'),
      el('dt', {}, 'Created'), el('dd', {}, detail.createDate),
      el('dt', {}, 'Runs'), el('dd', {}, detail.transactional ? 'in a transaction' : 'outside a transaction'),
      el('dt', {}, 'Breaking'), el('dd', {}, detail.breaking ? 'yes: replicas without it turn unready once it is applied' : 'no')),
    el('h4', {}, 'Upgrade SQL'), el('pre', { tabindex: 0, 'aria-label': `upgrade SQL of ${detail.revision}` }, detail.up.join(';\n\n') || '(none)'),
    el('h4', {}, 'Downgrade SQL'), el('pre', { tabindex: 0, 'aria-label': `downgrade SQL of ${detail.revision}` }, detail.down.join(';\n\n') || '(none)'),
    el('h4', {}, 'Plan findings'),
    findings.length === 0
      ? el('p', { class: 'muted' }, 'No plan awaiting approval covers this revision.')
      : el('ul', {}, findings.map(({ plan, finding }) => el('li', { class: `finding-${finding.severity}` },
        `${finding.severity} ${finding.rule}: ${finding.message}`, el('span', { class: 'muted' }, ` (plan ${plan.id.slice(0, 8)})`)))))
}
