import { AuthoringError, type AuthoringErrorKind } from '../authoring/errors.js'
import { MigratorError } from '../migrator/index.js'
import { ReviewError } from '../review/errors.js'
import { CliFailure, type CliProblem } from './api.js'
import { nextStepInCli } from './next-steps.js'

/** What to do next, in this command line's words, after what the authoring module says happened. */
const authoringHints: Partial<Record<AuthoringErrorKind, string>> = {
  'multiple-heads': 'name the one to build on with --head <rev>, or merge them first',
  'no-migrations-dir': '--dir names another',
}

/** Every failure prints as a problem: the service's own, or a layer's error told the same way. */
export function problemOf (error: unknown): CliProblem {
  if (error instanceof CliFailure) return error.problem
  if (error instanceof MigratorError || error instanceof ReviewError) return engineProblem(error)
  if (error instanceof AuthoringError) {
    const hint = authoringHints[error.kind]
    return { type: error.kind, detail: hint === undefined ? error.message : `${error.message} (${hint})` }
  }
  const code = (error as NodeJS.ErrnoException).code
  return { type: 'error', detail: (error as Error).message || String(code ?? error), ...(code === undefined ? {} : { code }) }
}

/** The service says what to do next in requests; here it is said in commands, whichever transport failed. */
export function withNextStep (problem: CliProblem): CliProblem {
  const { nextStep: _overHttp, ...rest } = problem
  const nextStep = nextStepInCli(problem)
  return { ...rest, type: problem.type, detail: problem.detail, ...(nextStep === null ? {} : { nextStep }) }
}

/** The kind names the problem, as the service's `type` does; the error's fields go beside its message. */
function engineProblem (error: MigratorError | ReviewError): CliProblem {
  const { kind, databaseCode, ...fields } = { ...error } as Record<string, unknown>
  return { type: String(kind), detail: error.message, ...fields, ...(databaseCode === undefined ? {} : { code: databaseCode }) }
}
