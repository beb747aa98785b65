import { Type, type TSchema } from '@sinclair/typebox'

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'the problem, as a relative URI reference, e.g. `unknown-revision`' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
}, { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details; extension fields vary by type' })

export const ProblemRef = Type.Ref(ProblemSchema)

/** Shared schemas get an `$id` and are added once, so OpenAPI names them instead of inlining copies. */
export const sharedSchemas: TSchema[] = [ProblemSchema]

/** The problem+json responses a route can give, by status code. */
export function problems (...codes: number[]): Record<number, typeof ProblemRef> {
  return Object.fromEntries(codes.map((code) => [code, ProblemRef]))
}
