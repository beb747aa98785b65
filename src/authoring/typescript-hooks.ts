import { readFile } from 'node:fs/promises'
import type { LoadHook, ResolveHook } from 'node:module'
import { fileURLToPath } from 'node:url'

/**
 * Module hooks that let Node 20 import the TypeScript revisions of a checkout, for `revision`
 * and `merge`: `.ts` files are transpiled with the checkout's own `typescript`, and a `.js`
 * import from one resolves to the `.ts` file beside it, as `tsc` would have it.
 */
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context)
  } catch (error) {
    if (!specifier.endsWith('.js') || context.parentURL?.endsWith('.ts') !== true) throw error
    return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
  }
}

export const load: LoadHook = async (url, context, nextLoad) => {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context)
  const { default: ts } = await import('typescript').catch(() => {
    throw new Error(`${fileURLToPath(url)} is TypeScript, and the typescript package (a development dependency) is not installed`)
  })
  const { outputText } = ts.transpileModule(await readFile(new URL(url), 'utf8'), {
    fileName: fileURLToPath(url),
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  })
  return { format: 'module', source: outputText, shortCircuit: true }
}
