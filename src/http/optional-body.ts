import type { preValidationHookHandler, RouteOptions } from 'fastify'

/** No body at all is an empty object; a JSON `null` is a body, and the schema refuses it. */
const absentAsEmpty: preValidationHookHandler = (request, _reply, done) => {
  if (request.body === undefined) request.body = {}
  done()
}

/**
 * A route whose schema says `x-body-optional` (a deploy job's bare `POST /migrations/upgrade`
 * means "to head") takes a request without a body as `{}`. Only a missing body: `-d null` with
 * `Content-Type: application/json` is not an object, and running an upgrade for it would act on
 * a client's mistake.
 */
export function fillAbsentOptionalBody (route: RouteOptions): void {
  if ((route.schema as { 'x-body-optional'?: boolean } | undefined)?.['x-body-optional'] !== true) return
  route.preValidation = [absentAsEmpty, ...[route.preValidation ?? []].flat()]
}
