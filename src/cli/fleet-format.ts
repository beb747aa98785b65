import type { Fleet, Rollout, TargetList } from './api.js'

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

type RolloutTargetRow = Rollout['targets'][number]

function revisionsOf (revisions: readonly string[] | null): string {
  return revisions === null ? '?' : revisions.join(',') || 'base'
}

/** `tenant-a  succeeded  base → 3f9a1c2e7d40  6 steps  1.2 s`, and the problem when it failed. */
export function rolloutTargetLine (target: RolloutTargetRow): string {
  const moved = target.before === null ? '' : `  ${revisionsOf(target.before)} → ${revisionsOf(target.after)}`
  const steps = target.steps === null ? '' : `  ${target.steps} step${target.steps === 1 ? '' : 's'}`
  const took = target.durationMs === null ? '' : `  ${(target.durationMs / 1000).toFixed(1)} s`
  const problem = target.problem === null ? '' : `  ${String(target.problem.type)}: ${String(target.problem.detail ?? '')}`
  return `${target.name}: ${target.status}${moved}${steps}${took}${problem}`
}

export function rolloutCounts (rollout: Rollout): string {
  const counts = Object.entries(rollout.counts).filter(([, count]) => count > 0).map(([status, count]) => `${count} ${status}`)
  return `${rollout.targets.length} targets: ${counts.join(', ') || 'none'}`
}

export function rolloutHeader (rollout: Rollout): string {
  return `Rollout ${rollout.id}: ${rollout.verb} to ${rollout.target}${rollout.environment === null ? '' : ` in ${rollout.environment}`}, ${rollout.status}; ${rolloutCounts(rollout)}\n`
}

export function rolloutTable (rollout: Rollout): string {
  const rows = rollout.targets.map((target) => [
    target.name,
    target.status,
    target.before === null ? '-' : revisionsOf(target.before),
    target.after === null ? '-' : revisionsOf(target.after),
    target.steps === null ? '-' : String(target.steps),
    target.durationMs === null ? '-' : String(target.durationMs),
    target.problem === null ? '-' : String(target.problem.type),
  ])
  return rolloutHeader(rollout) + table(['NAME', 'STATUS', 'BEFORE', 'AFTER', 'STEPS', 'MS', 'PROBLEM'], rows)
}
