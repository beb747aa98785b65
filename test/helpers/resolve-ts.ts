import { registerHooks } from 'node:module'

/*
 * Loaded into every test process (package.json's tap `node-arg`). The tests run under Node's own
 * type stripping (tap's `type-strip-only`), not ts-node: a process no longer loads and runs the
 * TypeScript compiler on every module it imports, the larger part of the suite's time. Stripping
 * loads a `.ts` file as it is, but resolves imports as written, and the sources import each other
 * as `./x.js`, the specifier NodeNext wants of the build. So a relative `.js` import from a `.ts`
 * module that finds no `.js` file resolves to the `.ts` file beside it, as tsc would have it.
 * Synchronous, in-thread hooks: the resolution costs no loader thread.
 */
registerHooks({
  resolve (specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (error) {
      // A module tap's mockImport loads has a query after its path.
      const fromTypeScript = context.parentURL?.split('?')[0]?.endsWith('.ts') === true && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')
      if (!fromTypeScript || (error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error
      try {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
      } catch {
        throw error
      }
    }
  },
})
