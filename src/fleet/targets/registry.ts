import { CatalogReader, type DiscoveryLogger, type DiscoveryState } from './discovery.js'
import type { FleetTarget } from './target.js'
import type { TargetsFile } from './targets-file.js'

export interface TargetRegistry {
  /** Promotion order. */
  readonly environments: readonly string[]
  /** Current: the service's own database, the file's targets and the discovered ones. */
  list (): readonly FleetTarget[]
  get (name: string): FleetTarget | undefined
  /** Re-runs discovery now. */
  refresh (): Promise<void>
}

export interface ManagedTargetRegistry extends TargetRegistry {
  /** Each discovery group's last read: when, and why it failed. */
  discovery (): readonly DiscoveryState[]
  /** Called after each change of the list (a tenant discovered or gone). */
  onChange (listener: (targets: readonly FleetTarget[]) => void): void
  /** Reads every catalog once, then again every group's `refreshMs`. */
  start (): Promise<void>
  close (): Promise<void>
}

export interface RegistryOptions {
  /** The parsed TARGETS_FILE; null: the registry holds the service's own database only. */
  readonly file: TargetsFile | null
  /** The service's own database. */
  readonly self: { readonly url: string, readonly migrationUrl: string | null }
  readonly logger: DiscoveryLogger
}

/**
 * The targets, built once from the file and kept current from the catalogs. A discovered name
 * that the file (or an earlier group) already uses is skipped and said, never silently replaced.
 */
export function createTargetRegistry (options: RegistryOptions): ManagedTargetRegistry {
  const { file } = options
  const environments = file?.environments ?? ['default']
  const self: FleetTarget = {
    name: file?.self.name ?? 'self',
    environment: file?.self.environment ?? environments[0] as string,
    labels: {},
    schema: null,
    url: options.self.url,
    migrationUrl: options.self.migrationUrl,
    source: 'self',
  }
  const declared: FleetTarget[] = [self, ...(file?.targets ?? []).map((target) => ({ ...target, source: 'file' as const }))]
  const readers = (file?.groups ?? []).map((group) => new CatalogReader(group, options.logger))
  const listeners: Array<(targets: readonly FleetTarget[]) => void> = []
  const timers: NodeJS.Timeout[] = []
  let targets: readonly FleetTarget[] = declared
  let byName = new Map(targets.map((target) => [target.name, target]))

  function rebuild (): void {
    const merged = [...declared]
    const names = new Set(merged.map((target) => target.name))
    for (const reader of readers) {
      for (const target of reader.state.targets) {
        if (names.has(target.name)) {
          options.logger.warn({ group: reader.group.name, target: target.name }, 'a discovered target has the name of another target; skipped')
          continue
        }
        names.add(target.name)
        merged.push(target)
      }
    }
    const changed = merged.length !== targets.length || merged.some((target, index) => !sameTarget(target, targets[index]))
    targets = merged
    byName = new Map(targets.map((target) => [target.name, target]))
    if (changed) for (const listener of listeners) listener(targets)
  }

  async function refreshReader (reader: CatalogReader): Promise<void> {
    await reader.refresh()
    rebuild()
  }

  return {
    environments,
    list: () => targets,
    get: (name) => byName.get(name),
    async refresh () {
      await Promise.all(readers.map(async (reader) => reader.refresh()))
      rebuild()
    },
    discovery: () => readers.map((reader) => reader.state),
    onChange (listener) { listeners.push(listener) },
    async start () {
      await this.refresh()
      for (const reader of readers) {
        const timer = setInterval(() => { refreshReader(reader).catch(() => undefined) }, reader.group.discover.refreshMs)
        timer.unref()
        timers.push(timer)
      }
    },
    async close () {
      for (const timer of timers) clearInterval(timer)
      await Promise.all(readers.map(async (reader) => reader.close()))
    },
  }
}

function sameTarget (a: FleetTarget, b: FleetTarget | undefined): boolean {
  return b !== undefined && a.name === b.name && a.url === b.url && a.schema === b.schema && a.environment === b.environment &&
    a.migrationUrl === b.migrationUrl && JSON.stringify(a.labels) === JSON.stringify(b.labels)
}
