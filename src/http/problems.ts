import type { FastifyReply } from 'fastify'
import { problemTypes, type ProblemType } from './problem-types.js'

/** RFC 9457 problem details. `type` is a relative URI reference naming the problem. */
export interface Problem {
  type: ProblemType
  title: string
  status: number
  detail: string
  [extension: string]: unknown
}

/** A problem of the catalogue: its title and status come from the type. */
export function problemOf (type: ProblemType, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const { status, title } = problemTypes[type]
  return { type, title, status, detail, ...extensions }
}

/** A problem to throw from a hook or route: the error handler sends it as it is. */
export class ProblemError extends Error {
  readonly problem: Problem
  constructor (problem: Problem) {
    super(problem.detail)
    this.problem = problem
  }
}

export function problem (type: ProblemType, detail: string, extensions: Record<string, unknown> = {}): ProblemError {
  return new ProblemError(problemOf(type, detail, extensions))
}

const contentType = 'application/problem+json; charset=utf-8'

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(contentType).serializer(JSON.stringify).send(problem)
}
