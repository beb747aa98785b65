import FindMyWay, { type HTTPMethod } from 'find-my-way'
import type { RouteOptions } from 'fastify'

export interface AllowedMethods {
  /** Told of each route as it is added (an `onRoute` hook). */
  readonly add: (route: RouteOptions) => void
  /** The methods some route answers at this path, sorted; [] where none does. */
  readonly at: (path: string) => string[]
}

/**
 * Which methods a path has, for a 405's `Allow` (RFC 9110 15.5.6). Fastify's router says only
 * whether one method matches, so the routes are matched again here, with the same router library
 * and its defaults (Fastify's too), only on a request no route took.
 */
export function allowedMethods (): AllowedMethods {
  const router = FindMyWay()
  const methods = new Set<HTTPMethod>()
  const noop = () => undefined
  return {
    add (route) {
      for (const method of [route.method].flat() as HTTPMethod[]) {
        methods.add(method)
        if (!router.hasRoute(method, route.url)) router.on(method, route.url, noop)
      }
    },
    at (path) {
      return [...methods].filter((method) => router.find(method, path) !== null).sort()
    },
  }
}
