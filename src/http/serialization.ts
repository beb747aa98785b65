import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

/**
 * Fastify's own serializer factory, building each distinct response schema once, when a response
 * first needs it. Fastify asks for one serializer per route and status while it gets ready:
 * nearly every route documents the same `{ $ref: 'Problem' }` for half a dozen statuses, so most
 * of its five hundred builds were of one schema, and even the thirty distinct ones held the
 * service unready for a fifth of its start (a build is several milliseconds, most of them
 * spent on the shared schemas). A serializer is a pure function of its schema and of the shared
 * schemas, and these are the same for every route this factory serves.
 */
export const sharedSerializers: SerializerFactory = (externalSchemas, options) => {
  const build = SerializerSelector()(externalSchemas, options)
  const serializers = new Map<string, (payload: unknown) => string>()
  return (route) => {
    const key = JSON.stringify(route.schema)
    let serializer = serializers.get(key)
    if (serializer === undefined) {
      let built: ((payload: unknown) => string) | undefined
      serializer = (payload) => (built ??= build(route))(payload)
      serializers.set(key, serializer)
    }
    return serializer
  }
}
