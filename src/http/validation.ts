import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifySchema } from 'fastify'

/**
 * JSON bodies are validated as sent: `{ "target": 12 }` is a client's mistake, not the
 * revision "12". Query strings, params and headers are text on the wire, so they are coerced.
 */
export function installValidators (app: FastifyInstance): void {
  const common = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false } as const
  const strict = addFormats.default(new Ajv({ ...common, coerceTypes: false }))
  const coercing = addFormats.default(new Ajv({ ...common, coerceTypes: 'array' }))
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing
    for (const shared of Object.values(app.getSchemas()) as Array<{ $id?: string }>) {
      if (shared.$id !== undefined && ajv.getSchema(shared.$id) === undefined) ajv.addSchema(shared)
    }
    return ajv.compile(schema as FastifySchema) as ValidateFunction
  })
}
