import fp from 'fastify-plugin'
import { createTargetRegistry, type ManagedTargetRegistry } from '../fleet/targets/registry.js'
import type { TargetsFile } from '../fleet/targets/targets-file.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Every target: always the service's own database, and TARGETS_FILE's and the discovered ones. */
    targets: ManagedTargetRegistry
  }
}

export interface TargetsPluginOptions {
  /** The parsed TARGETS_FILE; null: only the service's own database. */
  readonly file: TargetsFile | null
  readonly self: { readonly url: string, readonly migrationUrl: string | null }
}

/**
 * The registry, always there (holding at least the service's own database), so routes need no
 * case for a service without a targets file. The catalogs are first read once the app is
 * ready, in the background: one that cannot be reached is said in the log, never fatal.
 */
export default fp<TargetsPluginOptions>(async (fastify, options) => {
  const log = fastify.log.child({ component: 'targets' })
  const registry = createTargetRegistry({ file: options.file, self: options.self, logger: log })
  fastify.decorate('targets', registry)
  let starting: Promise<void> = Promise.resolve()
  fastify.addHook('onReady', async () => {
    starting = registry.start().catch((error: unknown) => log.warn({ err: error }, 'target discovery could not start'))
  })
  fastify.addHook('onClose', async () => {
    await starting
    await registry.close()
  })
}, { name: 'targets' })
