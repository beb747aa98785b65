import { api } from './api.js'
import { el, show, time } from './dom.js'

function stateOf (target) {
  if (!target.reachable) return { word: 'unreachable', tone: 'fleet-bad' }
  if (target.breaking.length > 0) return { word: 'breaking ahead', tone: 'fleet-bad' }
  if (target.inSync === false) return { word: 'drifted', tone: 'fleet-warn' }
  if (target.ahead.length > 0) return { word: 'ahead', tone: 'fleet-warn' }
  if (!target.upToDate) return { word: `${target.pending} pending`, tone: 'fleet-warn' }
  return { word: 'up to date', tone: 'fleet-ok' }
}

/**
 * `GET /fleet`, one column per environment; the panel shows only for a fleet, not for the
 * service's own database alone (no TARGETS_FILE), which the other panels already show.
 */
export async function refreshFleet (panel, container) {
  const fleet = await api('/fleet?limit=500')
  panel.hidden = fleet.summary.total <= 1
  if (panel.hidden) return
  const environments = new Map()
  for (const target of fleet.targets) {
    if (!environments.has(target.environment)) environments.set(target.environment, [])
    environments.get(target.environment).push(target)
  }
  const { summary } = fleet
  show(container,
    el('p', {}, `${summary.total} targets: ${summary.upToDate} up to date, ${summary.behind} behind, ${summary.ahead} ahead, ${summary.unreachable} unreachable, ${summary.drifted} drifted.`),
    el('div', { class: 'fleet-grid' }, [...environments].map(([environment, targets]) => el('section', { class: 'fleet-env', 'aria-label': `environment ${environment}` },
      el('h3', {}, environment),
      el('ul', {}, targets.map((target) => {
        const state = stateOf(target)
        return el('li', {}, el('strong', {}, target.name), ' ', el('span', { class: `state ${state.tone}` }, state.word),
          el('br'), el('span', { class: 'muted' }, `at ${target.current.join(', ') || 'base'} · checked `, time(target.checkedAt)))
      }))))))
}
