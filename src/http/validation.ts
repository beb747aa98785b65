import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifySchema } from 'fastify'
import { isMailbox } from './email-format.js'

/**
 * JSON bodies are validated as sent: `{ "target": 12 }` is a client's mistake, not the
 * revision "12". Query strings, params and headers are text on the wire, so they are coerced.
 */
export function installValidators (app: FastifyInstance): void {
  const common = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false } as const
  const strict = addFormats.default(new Ajv({ ...common, coerceTypes: false })).addFormat('email', isMailbox)
  const coercing = addFormats.default(new Ajv({ ...common, coerceTypes: 'array' })).addFormat('email', isMailbox)
  // Ajv knows a schema it compiled by the object: routes that repeat one (a `{ $ref }` body, the same
  // query) each bring their own, and each would be compiled again at start-up.
  const compiled = new Map<string, ValidateFunction>()
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const body = httpPart === 'body'
    const key = `${body ? 'strict' : 'coercing'} ${JSON.stringify(schema)}`
    let validate = compiled.get(key)
    if (validate === undefined) {
      const ajv = body ? strict : coercing
      // Added, not compiled (`getSchema` would compile it): a route's schema compiles the shared ones it refers to.
      for (const shared of Object.values(app.getSchemas()) as Array<{ $id?: string }>) {
        if (shared.$id !== undefined && ajv.schemas[shared.$id] === undefined) ajv.addSchema(shared)
      }
      validate = ajv.compile(schema as FastifySchema)
      compiled.set(key, validate)
    }
    return storable(validate)
  })
}

/** Deeper than this, JSON.stringify or PostgreSQL's jsonb parser would run out of stack: a 500 for a client's mistake. */
export const maxDepth = 100

/**
 * What Ajv cannot see but PostgreSQL refuses: U+0000 in text or jsonb, and JSON nested past any
 * stack. Refused here, for every part of every request, as a 400 naming the field.
 */
function storable (validate: ValidateFunction): ValidateFunction {
  const checked = function (this: unknown, data: unknown, context?: Parameters<ValidateFunction>[1]) {
    if (!validate.call(this, data, context)) {
      checked.errors = validate.errors
      return false
    }
    const refusal = unstorable(data)
    checked.errors = refusal === null ? null : [{ ...refusal, schemaPath: '#', keyword: 'storable', params: {} }]
    return refusal === null
  } as ValidateFunction
  return Object.assign(checked, { schema: validate.schema, schemaEnv: validate.schemaEnv })
}

/** The first string or key holding U+0000, or value nested too deep; iterative, so the check itself cannot overflow. */
function unstorable (data: unknown): { instancePath: string, message: string } | null {
  const pending: Array<[unknown, string, number]> = [[data, '', 0]]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, path, depth] = next
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { instancePath: path, message: 'must not contain the character U+0000' }
    } else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
      if (depth >= maxDepth) return { instancePath: path, message: `must not nest deeper than ${maxDepth} levels` }
      for (const [key, child] of Object.entries(value)) {
        const childPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`
        if (key.includes('\u0000')) return { instancePath: childPath, message: 'must not contain the character U+0000' }
        pending.push([child, childPath, depth + 1])
      }
    }
  }
  return null
}
