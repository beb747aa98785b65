import { FleetCache } from '../fleet/status/fleet-cache.js'
import { labelSelector } from '../fleet/status/query.js'
import { createTargetRegistry, type ManagedTargetRegistry } from '../fleet/targets/registry.js'
import { matchesLabels, redactedUrl } from '../fleet/targets/target.js'
import type { RevisionGraph } from '../migrator/index.js'
import type { Fleet, FleetFilter, TargetList } from './api.js'
import type { DirectOptions } from './direct.js'

/** TARGETS_FILE's registry, its catalogs read once; what a failed read says goes to stderr as a warning. */
async function withRegistry<T> (options: DirectOptions, work: (registry: ManagedTargetRegistry) => Promise<T>): Promise<T> {
  const registry = createTargetRegistry({
    file: options.settings.targets,
    self: { url: options.databaseUrl, migrationUrl: null },
    logger: { warn: (object, message) => options.onWarning(`${message} ${JSON.stringify(object)}`) },
  })
  try {
    await registry.refresh()
    return await work(registry)
  } finally {
    await registry.close()
  }
}

export async function directTargets (options: DirectOptions): Promise<TargetList> {
  return withRegistry(options, async (registry) => ({
    targets: registry.list().map((target) => ({ name: target.name, environment: target.environment, labels: target.labels, schema: target.schema, url: redactedUrl(target.url), source: target.source })),
    discovery: registry.discovery().map((state) => ({ group: state.group, targets: state.targets.length, refreshedAt: state.refreshedAt, error: state.error })),
  }))
}

/** Each target read now, eight at a time, as the service's cache reads them. */
export async function directFleet (graph: RevisionGraph, options: DirectOptions, filter: FleetFilter): Promise<Fleet> {
  const selector = labelSelector(filter.labels)
  return withRegistry(options, async (registry) => {
    const wanted = (target: { environment: string, labels: Readonly<Record<string, string>> }) =>
      (filter.environment === undefined || target.environment === filter.environment) && matchesLabels(target.labels, selector)
    const fleet = new FleetCache({
      // Only the targets asked for are read.
      registry: { ...registry, list: () => registry.list().filter(wanted), get: (name) => [registry.get(name)].find((target) => target !== undefined && wanted(target)) },
      graph,
      // Read just before the page: nothing goes stale within one command's run.
      refreshMs: 60_000,
      background: false,
      logger: { debug: () => undefined, warn: (object, message) => options.onWarning(`${message} ${JSON.stringify(object)}`) },
    })
    await fleet.refresh()
    const page = await fleet.page({ environment: filter.environment, labels: selector, limit: Number.MAX_SAFE_INTEGER })
    return { summary: page.summary, targets: page.targets, nextCursor: null }
  })
}
