import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

type Schemas = Record<string, unknown>

/**
 * Fastify's own serializer factory, building each distinct response schema once, with only the
 * shared schemas it refers to. Fastify asks for one serializer per route and status while it gets
 * ready: nearly every route documents the same `{ $ref: 'Problem' }` for half a dozen statuses, so
 * most of its five hundred builds were of one schema; and a build handed every shared schema
 * spent most of its time on the forty-odd it never used. A serializer is a pure function of its
 * schema and of the shared schemas, and these are the same for every route this factory serves.
 */
export const sharedSerializers: SerializerFactory = (externalSchemas, options) => {
  const shared = (externalSchemas ?? {}) as Schemas
  const serializers = new Map<string, (payload: unknown) => string>()
  return (route) => {
    const key = JSON.stringify(route.schema)
    let serializer = serializers.get(key)
    if (serializer === undefined) {
      serializer = SerializerSelector()(referencedBy(route.schema, shared), options)(route)
      serializers.set(key, serializer)
    }
    return serializer
  }
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
