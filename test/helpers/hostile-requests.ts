import fc from 'fast-check'

/** The parts of an OpenAPI 3.1 document the generator reads. */
type JsonSchema = Record<string, unknown>
interface Parameter { name: string, in: 'path' | 'query' | 'header' | 'cookie', required?: boolean, schema?: JsonSchema }
interface MediaType { schema?: JsonSchema }
interface OperationObject {
  operationId?: string
  parameters?: Parameter[]
  requestBody?: { content: Record<string, MediaType> }
  responses?: Record<string, { content?: Record<string, MediaType> }>
  security?: unknown[]
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>
  components?: { schemas?: Record<string, JsonSchema> }
}

export interface Operation {
  readonly method: string
  readonly path: string
  readonly operationId: string
  readonly parameters: readonly Parameter[]
  readonly bodyMediaType: string | null
  readonly bodySchema: JsonSchema | null
  /** The documented status codes, as strings (`default` included when documented). */
  readonly statuses: readonly string[]
}

export interface HostileRequest {
  readonly operation: Operation
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly payload?: string | Buffer
}

/** Valid values a generated field may take, by field or parameter name: real ids, real targets. */
export type Hints = Record<string, fc.Arbitrary<unknown>>
/** The hints for one operation: `id` in `/users/{id}` is a user's. */
export type HintsFor = (operation: Operation) => Hints

const methods = ['get', 'put', 'post', 'patch', 'delete']

export function operationsOf (document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) => methods.filter((method) => item[method] !== undefined).map((method) => {
    const operation = item[method] as OperationObject
    const [bodyMediaType, media] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [null, null]
    return {
      method: method.toUpperCase(),
      path,
      operationId: operation.operationId ?? `${method} ${path}`,
      parameters: operation.parameters ?? [],
      bodyMediaType,
      bodySchema: media?.schema ?? null,
      statuses: Object.keys(operation.responses ?? {}),
    }
  }))
}

const prototypeKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__']

/** Text that has broken parsers, SQL and path handling before. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', '1e400', 'NaN', 'Infinity', 'null', 'true', '[]', '{}', '..', '../../etc/passwd', '%', '%zz', '%00',
    "'; DROP TABLE users; --", '\\', '"', '\u0000', 'a\u0000b', '\ud800', '\u202e', '\ufeff', 'ﬀ', '💥', '{{x}}', '%s%n', '<script>', ...prototypeKeys,
    '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '{00000000-0000-4000-8000-000000000000}'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 256, max: 100_000 }).map((length) => 'x'.repeat(length))
)

/** Any JSON at all, weighted towards what breaks servers: nulls, wrong types, huge, deep, prototype keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, [], {}),
  hostileText,
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom(...prototypeKeys), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }),
  fc.integer({ min: 30, max: 3000 }).map(nested),
  fc.integer({ min: 1000, max: 20_000 }).map((length) => Array.from({ length }, (_, index) => index))
)

function nested (depth: number): unknown {
  let value: unknown = 1
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? { a: value } : [value]
  return value
}

/** A value the schema accepts, as far as this generator understands schemas; hints first. */
export function validValue (schema: JsonSchema | undefined, document: OpenApiDocument, hints: Hints, name?: string): fc.Arbitrary<unknown> {
  if (name !== undefined && hints[name] !== undefined) return hints[name]
  if (schema === undefined) return fc.jsonValue({ maxDepth: 2 })
  if (typeof schema.$ref === 'string') return validValue(resolve(document, schema.$ref), document, hints, name)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]))
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key]
    if (Array.isArray(options)) return fc.oneof(...options.map((option: JsonSchema) => validValue(option, document, hints, name)))
  }
  const types = Array.isArray(schema.type) ? schema.type as string[] : [schema.type as string | undefined]
  return fc.oneof(...types.map((type) => ofType(type, schema, document, hints)))
}

function ofType (type: string | undefined, schema: JsonSchema, document: OpenApiDocument, hints: Hints): fc.Arbitrary<unknown> {
  const min = typeof schema.minimum === 'number' ? schema.minimum : -1000
  const max = typeof schema.maximum === 'number' ? schema.maximum : 1000
  switch (type) {
    case 'null': return fc.constant(null)
    case 'boolean': return fc.boolean()
    case 'integer': return fc.integer({ min: Math.max(min, -2147483648), max: Math.min(max, 2147483647) })
    case 'number': return fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
    case 'string': return validString(schema)
    case 'array': return fc.array(validValue(schema.items as JsonSchema | undefined, document, hints), { maxLength: 3 })
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>
      const required = (schema.required ?? []) as string[]
      if (Object.keys(properties).length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
      const model = Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, validValue(property, document, hints, key)]))
      return fc.record(model, { requiredKeys: required.filter((key) => key in model) })
    }
    default: return fc.jsonValue({ maxDepth: 2 })
  }
}

function validString (schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid()
  if (schema.format === 'email') return fc.emailAddress()
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((date) => date.toISOString())
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0
  const maxLength = Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : 40, 40)
  const examples = Array.isArray(schema.examples) ? schema.examples as string[] : []
  const text = fc.string({ minLength, maxLength: Math.max(minLength, maxLength) })
  return examples.length > 0 ? fc.oneof(fc.constantFrom(...examples), text) : text
}

function resolve (document: OpenApiDocument, ref: string): JsonSchema {
  const name = ref.replace('#/components/schemas/', '')
  const schema = document.components?.schemas?.[name]
  if (schema === undefined) throw new Error(`unresolvable $ref ${ref}`)
  return schema
}

/** A JSON body: valid, or valid with one field dropped, replaced or added, or something else entirely. */
function jsonBody (operation: Operation, document: OpenApiDocument, hints: Hints): fc.Arbitrary<unknown> {
  const valid = validValue(operation.bodySchema ?? undefined, document, hints)
  const asObject = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {})
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 2, arbitrary: fc.tuple(valid, fc.nat()).map(([body, index]) => withoutKey(asObject(body), index)) },
    { weight: 4, arbitrary: fc.tuple(valid, fc.nat(), hostileValue).map(([body, index, value]) => withValue(asObject(body), index, value)) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.oneof(fc.constantFrom(...prototypeKeys, 'extra'), fc.string({ maxLength: 12 })), hostileValue).map(([body, key, value]) => ({ ...asObject(body), ...ownEntry(key, value) })) },
    { weight: 1, arbitrary: hostileValue }
  )
}

function withoutKey (body: Record<string, unknown>, index: number): Record<string, unknown> {
  const keys = Object.keys(body)
  if (keys.length === 0) return body
  const drop = keys[index % keys.length]
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== drop))
}

function withValue (body: Record<string, unknown>, index: number, value: unknown): Record<string, unknown> {
  const keys = Object.keys(body)
  if (keys.length === 0) return { ...ownEntry('value', value) }
  const key = keys[index % keys.length] as string
  return { ...body, ...ownEntry(key, value) }
}

/** `{ [key]: value }` as an own property even for `__proto__`, so JSON.stringify sends it. */
function ownEntry (key: string, value: unknown): Record<string, unknown> {
  return Object.fromEntries([[key, value]])
}

const jsonTexts = fc.constantFrom('', '{', '{"a":', '[', 'nul', 'undefined', '{"a":1}{', '\u0000', '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}', '{"a":1,"a":2}', '1e999999', '"\\ud800"')

/** The payload and Content-Type: mostly the documented media type, sometimes not; sometimes not even JSON. */
interface Body { payload?: string | Buffer, contentType?: string }

function bodyOf (operation: Operation, document: OpenApiDocument, hints: Hints): fc.Arbitrary<Body> {
  const wrongTypes = fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', 'application/octet-stream', 'application/problem+json', '*/*', 'garbage')
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 256 }).map((array) => Buffer.from(array)), fc.constant(Buffer.alloc(0)))
  const documented = operation.bodyMediaType === 'application/octet-stream'
    ? bytes.map((payload) => ({ payload, contentType: 'application/octet-stream' }))
    : jsonBody(operation, document, hints).map((body) => ({ payload: JSON.stringify(body) ?? 'null', contentType: 'application/json' }))
  return fc.oneof(
    { weight: 12, arbitrary: documented },
    { weight: 2, arbitrary: jsonTexts.map((payload) => ({ payload, contentType: 'application/json' })) },
    { weight: 2, arbitrary: fc.tuple(fc.oneof(jsonTexts, bytes), wrongTypes).map(([payload, contentType]) => ({ payload, contentType })) },
    { weight: 1, arbitrary: fc.constant<Body>({}) },
    { weight: 1, arbitrary: fc.constant({ payload: `{"a":"${'x'.repeat(2 * 1024 * 1024)}"}`, contentType: 'application/json' }) }
  )
}

/** Percent-encoded; a lone surrogate, which encodeURIComponent refuses, as the bytes Buffer makes of it. */
function encode (text: string): string {
  try {
    return encodeURIComponent(text)
  } catch {
    return [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')
  }
}

/** A path or query value: valid, or hostile text, percent-encoded or not. */
function parameterValue (parameter: Parameter, document: OpenApiDocument, hints: Hints): fc.Arbitrary<string> {
  const valid = validValue(parameter.schema, document, hints, parameter.name).map((value) => encode(typeof value === 'string' ? value : JSON.stringify(value)))
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 3, arbitrary: hostileText.map(encode) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '..', '.', '%2F', '%2e%2e', '?', '#', '&', '=', ';') }
  )
}

function queryOf (operation: Operation, document: OpenApiDocument, hints: Hints): fc.Arbitrary<string> {
  const query = operation.parameters.filter((parameter) => parameter.in === 'query')
  const pairs = query.map((parameter) => fc.option(parameterValue(parameter, document, hints), { nil: undefined, freq: 2 })
    .map((value) => value === undefined ? [] : [`${parameter.name}=${value}`]))
  const extra = fc.array(fc.oneof(
    fc.constantFrom('__proto__[polluted]=1', 'constructor[prototype][polluted]=1', '__proto__=1', 'limit=1&limit=2', 'cursor=', 'unknown=1', '=', '&&', 'a[]=1'),
    query.length === 0 ? fc.constant('x=1') : fc.constantFrom(...query.map((parameter) => `${parameter.name}[]=1`))
  ), { maxLength: 2 })
  return fc.tuple(fc.tuple(...pairs), extra).map(([chosen, more]) => {
    const parts = [...chosen.flat(), ...more]
    return parts.length === 0 ? '' : `?${parts.join('&')}`
  })
}

const authorizations = (admin: string): fc.Arbitrary<Record<string, string>> => fc.oneof(
  { weight: 20, arbitrary: fc.constant({ authorization: `Bearer ${admin}` }) },
  { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({}, { authorization: '' }, { authorization: 'Bearer' }, { authorization: 'Bearer wrong' }, { authorization: `Basic ${admin}` }, { authorization: `Bearer ${admin} extra` }) }
)

/** Requests derived from the document's operations, mutated; all authorized as `admin` but a few. */
export function hostileRequests (operations: readonly Operation[], document: OpenApiDocument, hintsFor: HintsFor, adminToken: string): fc.Arbitrary<HostileRequest> {
  return fc.constantFrom(...operations).chain((operation) => {
    const hints = hintsFor(operation)
    const pathValues = fc.tuple(...operation.parameters.filter((parameter) => parameter.in === 'path')
      .map((parameter) => parameterValue(parameter, document, hints).map((value) => [parameter.name, value] as const)))
    const body = operation.bodySchema === null && operation.bodyMediaType === null
      ? fc.oneof({ weight: 6, arbitrary: fc.constant<Body>({}) }, { weight: 1, arbitrary: bodyOf({ ...operation, bodyMediaType: 'application/json' }, document, hints) })
      : bodyOf(operation, document, hints)
    const accept = fc.option(fc.constantFrom('application/xml', 'text/html', '*/*', 'application/problem+json'), { nil: undefined, freq: 4 })
    return fc.record({ path: pathValues, query: queryOf(operation, document, hints), body, auth: authorizations(adminToken), accept })
      .map(({ path, query, body, auth, accept }) => {
        const url = path.reduce((template, [name, value]) => template.replace(`{${name}}`, value), operation.path) + query
        const headers: Record<string, string> = { ...auth }
        if (body.contentType !== undefined) headers['content-type'] = body.contentType
        if (accept !== undefined) headers.accept = accept
        return { operation, method: operation.method, url, headers, ...(body.payload === undefined ? {} : { payload: body.payload }) }
      })
  })
}
