import { api, token } from './api.js'
import { el, problemText, show } from './dom.js'
import { drawGraph, graphModel } from './graph.js'
import { showRevision } from './revision-detail.js'
import { refreshReplicas } from './replicas.js'
import { createOperationsPanel } from './operations.js'
import { refreshDrift } from './drift.js'
import { refreshPlans } from './plans.js'
import { refreshFleet } from './fleet.js'

const byId = (id) => document.getElementById(id)
const page = { scope: null, current: null, plans: [], graphKey: null, selected: null, busy: false }

/** A polled panel: `refresh` answers the next delay in ms; a failure is shown in `container`. */
function poller (container, refresh) {
  let timer = null
  const run = async () => {
    clearTimeout(timer)
    let delay = 10_000
    try {
      delay = await refresh()
    } catch (error) {
      show(container, problemText(error.status === 401 ? new Error('This panel needs a token: enter one above.') : error))
    }
    // Two runs at once (a token given mid-poll) leave one timer, not two.
    clearTimeout(timer)
    timer = setTimeout(run, delay)
  }
  return run
}

async function refreshScope () {
  const output = byId('token-scope')
  try {
    const who = await api('/auth/whoami')
    page.scope = who.scope
    output.textContent = who.tokenRequired ? `scope: ${who.scope}` : 'no token needed'
  } catch (error) {
    page.scope = null
    output.textContent = error.status === 401 ? (token.get() === '' ? 'a token is needed' : 'token not known') : error.message
  }
}

function selectRevision (revision) {
  page.selected = revision
  showRevision(byId('revision-detail'), revision, page.plans).catch((error) => show(byId('revision-detail'), problemText(error)))
}

async function refreshGraph () {
  const [history, current] = await Promise.all([api('/migrations/history'), api('/migrations/current')])
  const moved = page.current !== null && page.current.current.join() !== current.current.join()
  page.current = current
  // The database moved: what drift and the plans' staleness say changed with it.
  if (moved) {
    panels.drift()
    panels.plans()
  }
  const model = graphModel(history, current)
  const pending = current.pending.length
  byId('graph-summary').textContent = [
    `${history.revisions.length} revisions; the database is at ${current.current.join(', ') || 'base'}`,
    `heads ${current.heads.join(', ')}`,
    current.upToDate ? 'up to date' : pending > 0 ? `${pending} pending` : null,
    current.ahead.length > 0 ? `${current.ahead.length} ahead (this release lacks them)` : null,
    current.breaking.length > 0 ? `breaking: ${current.breaking.join(', ')}` : null,
    current.interrupted === null ? null : `interrupted: ${current.interrupted.revision}`,
  ].filter(Boolean).join(' · ')
  // Laid out again only when something changed: a thousand revisions cost a layout each time.
  const key = JSON.stringify(model)
  if (key !== page.graphKey) {
    drawGraph(byId('graph'), model, selectRevision)
    page.graphKey = key
    byId('graph').querySelector(`.node[data-revision="${CSS.escape(page.selected ?? '')}"]`)?.classList.add('selected')
  }
  // While an operation runs, the graph follows it revision by revision.
  return page.busy ? 1000 : 5000
}

const refreshOperations = createOperationsPanel(byId('operations'))
const fleetPanel = byId('fleet-panel')

const panels = {
  graph: poller(byId('graph-summary'), refreshGraph),
  replicas: poller(byId('replicas'), async () => { await refreshReplicas(byId('replicas')); return 5000 }),
  // While an operation is under way its bar moves every 750 ms; otherwise a look every 2 s.
  operations: poller(byId('operations'), async () => {
    page.busy = await refreshOperations()
    return page.busy ? 750 : 2000
  }),
  drift: poller(byId('drift'), async () => { await refreshDrift(byId('drift')); return 15_000 }),
  plans: poller(byId('plans'), async () => {
    page.plans = await refreshPlans(byId('plans'), {
      scope: page.scope,
      current: page.current,
      // The approval's own message stays a moment before the plan leaves the list.
      onApproved: () => setTimeout(() => panels.plans(), 1500),
    })
    return 5000
  }),
  // A tenant discovered later shows up in the panel without a reload.
  fleet: poller(byId('fleet'), async () => { await refreshFleet(fleetPanel, byId('fleet')); return 15_000 }),
}

async function refreshAll () {
  // The plans panel waits for the token's scope (its approve button) and the graph's state
  // (stale plans); every other panel asks at once.
  const scopeAndState = Promise.all([refreshScope(), panels.graph()])
  await Promise.all([scopeAndState.then(() => panels.plans()), panels.replicas(), panels.operations(), panels.drift(), panels.fleet()])
}

byId('token').value = token.get()
byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const value = byId('token').value.trim()
  if (value === '') token.clear()
  else token.set(value)
  refreshAll()
})
byId('token-forget').addEventListener('click', () => {
  token.clear()
  byId('token').value = ''
  refreshAll()
})

refreshAll().then(() => {
  performance.measure('status-page:first-render')
  document.body.dataset.ready = 'true'
}, (error) => {
  const notice = byId('notice')
  show(notice, el('span', {}, `The page could not load: ${error.message}`))
  notice.hidden = false
})
