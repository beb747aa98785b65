const svgNamespace = 'http://www.w3.org/2000/svg'

/**
 * An element with attributes and children. Text goes in as text nodes, never as HTML: what the
 * API returns (descriptions, SQL, reasons) cannot inject markup.
 */
export function el (tag, attributes = {}, ...children) {
  return fill(document.createElement(tag), attributes, children)
}

/** The same, in the SVG namespace. */
export function svg (tag, attributes = {}, ...children) {
  return fill(document.createElementNS(svgNamespace, tag), attributes, children)
}

function fill (element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    element.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return element
}

/** Replaces what `container` shows. */
export function show (container, ...children) {
  container.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false))
}

export function time (iso) {
  if (iso === null || iso === undefined) return '—'
  const date = new Date(iso)
  return el('time', { datetime: iso, title: iso }, date.toLocaleString())
}

/** A failed call, said in the panel it concerns. */
export function problemText (error) {
  return el('p', { class: 'problem', role: 'alert' }, error?.message ?? String(error))
}
