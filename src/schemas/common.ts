import { Type, type TSchema } from '@sinclair/typebox'
import { problemTypes, type ProblemType } from '../http/problem-types.js'

export const ProblemSchema = Type.Object({
  type: Type.Unsafe<ProblemType>({
    type: 'string',
    enum: Object.keys(problemTypes),
    description: 'the problem, as a relative URI reference; docs/http-errors.md says what each means',
  }),
  title: Type.String({ description: 'the same for every problem of a type' }),
  status: Type.Integer(),
  detail: Type.String({ description: 'what happened, this time' }),
  instance: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String()),
  nextStep: Type.Optional(Type.String({ description: 'which request to make next, where the detail alone does not say' })),
}, { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details; extension fields vary by type' })

export const ProblemRef = Type.Ref(ProblemSchema)

/** Shared schemas get an `$id` and are added once, so OpenAPI names them instead of inlining copies. */
export const sharedSchemas: TSchema[] = [ProblemSchema]

const problemResponse = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: ProblemRef } },
}

/**
 * The problem+json responses a route can give, by status code; `default` stands for the answers
 * any route may give when the service itself is in trouble (rate limited, database unavailable).
 */
export function problems (...codes: number[]): Record<number, typeof problemResponse> & { default: typeof problemResponse } {
  return { ...Object.fromEntries(codes.map((code) => [code, problemResponse])), default: problemResponse }
}
