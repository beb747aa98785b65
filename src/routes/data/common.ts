import { problem } from '../../http/problems.js'

/** The revision that brings each area's tables and columns; the schema gate holds a route below it. */
export const revisions = {
  initial: '5c1b6116de51',
  preprocessingHistory: 'a1b2c3d4e5f6',
  modelRunStatus: 'b2c3d4e5f6g7',
  preprocessingStepTransformer: 'c3d4e5f6g7h8',
  /** Not required by the model-run routes: below it a run's `taskId` is null and `?taskId=` answers 503. */
  modelRunTaskId: '3f9a1c2e7d40',
} as const

export const readSecurity = [{ bearer: ['read'] }]
export const writeSecurity = [{ bearer: ['write'] }]

/** The record, or the 404 for the id in the path. */
export function found<T> (record: T | null, what: string, id: string): T {
  if (record === null) throw notFound(what, id)
  return record
}

export function notFound (what: string, id: string) {
  return problem('not-found', `no ${what} has id ${id}`)
}
