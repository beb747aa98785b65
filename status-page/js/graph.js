import dagre from '/status/vendor/dagre.esm.js'
import { svg } from './dom.js'

const nodeWidth = 250
const nodeHeight = 46

/**
 * The graph the page draws: this release's revisions from `GET /migrations/history`, with what
 * `GET /migrations/current` says of the database. Revisions the database has and this release
 * lacks (`ahead`) are known by id only; a newer release stacked them on this release's heads,
 * so they are drawn there, in the order the service lists them.
 */
export function graphModel (history, current) {
  const interrupted = current.interrupted?.revision ?? null
  const nodes = history.revisions.map((revision) => ({
    id: revision.revision,
    description: revision.description,
    parents: revision.downRevisions,
    head: revision.isHead,
    applied: revision.applied,
    breaking: revision.breaking === true,
    ahead: false,
    interrupted: revision.revision === interrupted,
  }))
  const breakingAhead = new Set(current.breaking)
  let parents = current.heads
  for (const id of current.ahead) {
    nodes.push({ id, description: 'a newer release’s revision', parents, head: false, applied: true, breaking: breakingAhead.has(id), ahead: true, interrupted: id === interrupted })
    parents = [id]
  }
  return { nodes }
}

function layoutOf (model) {
  const graph = new dagre.graphlib.Graph()
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 30, marginx: 12, marginy: 12 })
  graph.setDefaultEdgeLabel(() => ({}))
  const known = new Set(model.nodes.map((node) => node.id))
  for (const node of model.nodes) graph.setNode(node.id, { width: nodeWidth, height: nodeHeight })
  for (const node of model.nodes) {
    for (const parent of node.parents) if (known.has(parent)) graph.setEdge(parent, node.id)
  }
  dagre.layout(graph)
  return graph
}

export function marksOf (node) {
  return [
    node.head && 'head',
    node.ahead ? 'ahead' : node.applied ? 'applied' : 'pending',
    node.breaking && 'breaking',
    node.interrupted && 'interrupted',
    node.parents.length > 1 && 'merge',
  ].filter(Boolean)
}

function truncated (text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text
}

/**
 * Lays the model out with dagre and draws it as SVG into `container`: oldest at the top, an edge
 * from each revision to those built on it. Each revision is a focusable button; `onSelect` gets
 * its id on click, Enter or Space. The time taken is measured as `status-page:graph`.
 */
export function drawGraph (container, model, onSelect) {
  performance.mark('status-page:graph-start')
  const layout = layoutOf(model)
  const { width, height } = layout.graph()
  const byId = new Map(model.nodes.map((node) => [node.id, node]))
  const drawing = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, 'aria-label': `revision graph of ${model.nodes.length} revisions` },
    svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' },
      svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#6b7280' }))))
  const edges = svg('g', { class: 'edges', 'aria-hidden': 'true' })
  for (const edge of layout.edges()) {
    const points = layout.edge(edge).points
    edges.append(svg('path', { class: 'edge', d: points.map((point, index) => `${index === 0 ? 'M' : 'L'} ${point.x} ${point.y}`).join(' '), 'marker-end': 'url(#arrow)' }))
  }
  const nodes = svg('g', { class: 'nodes' })
  for (const id of layout.nodes()) {
    const node = byId.get(id)
    const { x, y } = layout.node(id)
    const marks = marksOf(node)
    const shown = { id: truncated(id, 16), marks: marks.filter((mark) => mark !== 'applied' && mark !== 'pending').join(' · '), description: truncated(node.description, 36) }
    // The name starts with what the node shows (so speech matches sight), then says it all.
    const label = `${shown.id} ${shown.marks === '' ? '' : `· ${shown.marks} `}${shown.description}. Revision ${id}: ${node.description}; ${marks.join(', ')}`
    nodes.append(svg('g', {
      class: ['node', ...marks].join(' '),
      transform: `translate(${x - nodeWidth / 2} ${y - nodeHeight / 2})`,
      tabindex: 0,
      role: 'button',
      'aria-label': label,
      'data-revision': id,
      'data-head': node.head ? 'true' : 'false',
    },
    svg('title', {}, label),
    svg('rect', { width: nodeWidth, height: nodeHeight, rx: 6 }),
    // One text, its parts spaced, so what is read is what is shown, in order.
    svg('text', {},
      svg('tspan', { x: 8, y: 18, class: 'revision-id' }, shown.id),
      ' ',
      svg('tspan', { class: 'marks' }, shown.marks === '' ? '' : `· ${shown.marks}`),
      ' ',
      svg('tspan', { x: 8, y: 37 }, shown.description))))
  }
  drawing.append(edges, nodes)
  const choose = (event) => {
    const target = event.target.closest?.('.node')
    if (target === null || target === undefined) return
    if (event.type === 'keydown') {
      if (event.key !== 'Enter' && event.key !== ' ') return
      event.preventDefault()
    }
    for (const selected of drawing.querySelectorAll('.node.selected')) selected.classList.remove('selected')
    target.classList.add('selected')
    onSelect(target.dataset.revision)
  }
  drawing.addEventListener('click', choose)
  drawing.addEventListener('keydown', choose)
  container.replaceChildren(drawing)
  performance.measure('status-page:graph', 'status-page:graph-start')
}
