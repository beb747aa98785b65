import type { Fleet, TargetList } from './api.js'

/** Columns padded to their widest cell; the last one left ragged. */
function table (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: readonly string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].map((text) => `${text}\n`).join('')
}

function labelsText (labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([key, value]) => `${key}:${value}`).join(',')
}

export function targetsTable (list: TargetList): string {
  const rows = list.targets.map((target) => [target.name, target.environment, target.schema ?? '-', labelsText(target.labels) || '-', target.source, target.url])
  const failed = list.discovery.filter((group) => group.error !== null).map((group) => `discovery of ${group.group} failed (last list kept): ${group.error ?? ''}\n`)
  return table(['NAME', 'ENVIRONMENT', 'SCHEMA', 'LABELS', 'SOURCE', 'URL'], rows) + failed.join('')
}

export function fleetTable (fleet: Fleet): string {
  const rows = fleet.targets.map((target) => [
    target.name,
    target.environment,
    target.reachable ? target.current.join(',') || 'base' : '?',
    !target.reachable ? 'unreachable' : target.upToDate ? 'up to date' : target.pending > 0 ? `behind ${target.pending}` : 'not at head',
    target.ahead.length > 0 ? target.ahead.join(',') : '-',
    target.interrupted === null ? '-' : target.interrupted.revision,
    target.lastOperation === null ? '-' : `${target.lastOperation.kind} ${target.lastOperation.status}`,
    labelsText(target.labels) || '-',
  ])
  const { total, upToDate, behind, ahead, unreachable } = fleet.summary
  return table(['NAME', 'ENVIRONMENT', 'CURRENT', 'STATE', 'AHEAD', 'INTERRUPTED', 'LAST OPERATION', 'LABELS'], rows) +
    `${total} targets: ${upToDate} up to date, ${behind} behind, ${ahead} ahead, ${unreachable} unreachable\n`
}
