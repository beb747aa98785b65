import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

/**
 * Fastify's own serializer factory, building each distinct response schema once. Fastify builds
 * one serializer per route and status, at start-up: nearly every route documents the same
 * `{ $ref: 'Problem' }` for half a dozen statuses, so most of the five hundred builds (two
 * seconds of start-up) were of one schema. A serializer is a pure function of its schema and of
 * the shared schemas, and these are the same for every route this factory serves.
 */
export const sharedSerializers: SerializerFactory = (externalSchemas, options) => {
  const build = SerializerSelector()(externalSchemas, options)
  const built = new Map<string, ReturnType<typeof build>>()
  return (route) => {
    const key = JSON.stringify(route.schema)
    let serializer = built.get(key)
    if (serializer === undefined) {
      serializer = build(route)
      built.set(key, serializer)
    }
    return serializer
  }
}
