import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

type Schemas = Record<string, unknown>

/**
 * Fastify's own serializer factory, for one app, building each distinct response schema once,
 * with only the shared schemas it refers to. Fastify asks for one serializer per route and status
 * while it gets ready, through one factory per plugin context: nearly every route documents the
 * same `{ $ref: 'Problem' }` for half a dozen statuses, so most of its five hundred builds were of
 * one schema; and a build handed every shared schema spent most of its time on the forty-odd it
 * never used. A serializer is a pure function of its schema and of the shared schemas it reaches:
 * one is reused wherever both are the same.
 */
export function sharedSerializers (): SerializerFactory {
  const built = new Map<string, { readonly referenced: Schemas, readonly serializer: (payload: unknown) => string }>()
  return (externalSchemas, options) => {
    const shared = (externalSchemas ?? {}) as Schemas
    return (route) => {
      const key = JSON.stringify(route.schema)
      const referenced = referencedBy(route.schema, shared)
      const known = built.get(key)
      if (known !== undefined && sameSchemas(known.referenced, referenced)) return known.serializer
      const serializer = SerializerSelector()(referenced, options)(route)
      built.set(key, { referenced, serializer })
      return serializer
    }
  }
}

function sameSchemas (left: Schemas, right: Schemas): boolean {
  const ids = Object.keys(left)
  return ids.length === Object.keys(right).length && ids.every((id) => Object.hasOwn(right, id) && left[id] === right[id])
}

/** The shared schemas `schema` refers to, directly or through one another; all of them when a reference names none of them by its id. */
export function referencedBy (schema: unknown, shared: Schemas): Schemas {
  const found: Schemas = {}
  const pending = [schema]
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    if (typeof value !== 'object' || value === null) continue
    for (const [key, child] of Object.entries(value)) {
      if (key !== '$ref' || typeof child !== 'string') {
        pending.push(child)
        continue
      }
      const id = child.split('#')[0] as string
      if (id === '' || Object.hasOwn(found, id)) continue
      if (!Object.hasOwn(shared, id)) return shared
      found[id] = shared[id]
      pending.push(shared[id])
    }
  }
  return found
}
