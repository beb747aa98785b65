import { api } from './api.js'
import { el, show } from './dom.js'

/** `GET /schema/drift`: in sync, or each difference in the service's own words. */
export async function refreshDrift (container) {
  const drift = await api('/schema/drift')
  if (drift.inSync) {
    show(container, el('p', { class: 'state state-ready' }, `In sync with the revisions at ${drift.revision ?? 'base'}.`))
    return
  }
  show(container,
    el('p', { class: 'state state-unready' }, `${drift.differences.length} difference${drift.differences.length === 1 ? '' : 's'} from what the revisions produce at ${drift.revision ?? 'base'}:`),
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Kind'), el('th', { scope: 'col' }, 'Object'), el('th', { scope: 'col' }, 'Where'), el('th', { scope: 'col' }, 'Detail'))),
      el('tbody', {}, drift.differences.map((difference) => el('tr', {},
        el('td', {}, difference.kind),
        el('td', {}, difference.object),
        el('td', {}, el('code', {}, difference.name === difference.table ? difference.table : `${difference.table}.${difference.name}`)),
        el('td', {}, difference.detail))))))
}
