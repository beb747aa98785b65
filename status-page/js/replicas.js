import { api } from './api.js'
import { el, show, time } from './dom.js'

const stateWords = { ready: 'ready', 'compatible-ahead': 'ready, database ahead', unready: 'unready' }

/** `GET /replicas`, grouped by release: the version and the heads its code knows. */
export async function refreshReplicas (container) {
  const { replicas } = await api('/replicas')
  if (replicas.length === 0) {
    show(container, el('p', { class: 'muted' }, 'No replica has recorded itself in the last three heartbeats.'))
    return
  }
  const releases = new Map()
  for (const replica of replicas) {
    const key = `${replica.version} ${replica.heads.join(',')}`
    if (!releases.has(key)) releases.set(key, { version: replica.version, heads: replica.heads, replicas: [] })
    releases.get(key).replicas.push(replica)
  }
  show(container,
    el('p', {}, `${replicas.length} replica${replicas.length === 1 ? '' : 's'} of ${releases.size} release${releases.size === 1 ? '' : 's'}`),
    [...releases.values()].map((release) => el('div', { class: 'release', 'data-release': release.version, 'data-heads': release.heads.join(',') },
      el('h3', {}, `Release ${release.version}`, el('span', { class: 'muted' }, ` · heads ${release.heads.join(', ') || 'none'}`)),
      el('table', {},
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Instance'), el('th', { scope: 'col' }, 'State'), el('th', { scope: 'col' }, 'Why'), el('th', { scope: 'col' }, 'Last seen'))),
        el('tbody', {}, release.replicas.map((replica) => el('tr', { 'data-instance': replica.instance },
          el('td', {}, el('code', {}, replica.instance)),
          el('td', { class: `state state-${replica.state}` }, stateWords[replica.state] ?? replica.state),
          el('td', {}, replica.reason ?? '—'),
          el('td', {}, time(replica.lastSeenAt)))))))))
}
