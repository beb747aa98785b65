import { defaultGroupMs, defaultLockRetryPolicy, MigratorError } from '../migrator/index.js'
import { ReviewError } from '../review/errors.js'
import { CliFailure, type CliProblem, type SchemaApi, type StepListener } from './api.js'
import { commands } from './commands.js'
import { nextStepInCli } from './next-steps.js'
import { stepLine } from './format.js'
import { overview, parseInvocation, UsageError, verbs, type Invocation } from './usage.js'

export interface Streams {
  readonly stdout: { write (text: string): unknown }
  readonly stderr: { write (text: string): unknown }
}

export const exitCodes = { ok: 0, failure: 1, usage: 2, lockNotHad: 3 } as const

/** Runs one command line; resolves with the exit code. Transports are loaded only by the verbs that need them. */
export async function runCli (argv: readonly string[], env: NodeJS.ProcessEnv, streams: Streams): Promise<number> {
  let invocation: Invocation
  try {
    invocation = parseInvocation(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    streams.stderr.write(`aip-schema: ${error.message}\n\n${overview()}`)
    return exitCodes.usage
  }
  if (invocation.kind === 'help') {
    streams.stdout.write(invocation.text)
    return exitCodes.ok
  }
  const { verb, json } = invocation
  const onStep: StepListener = (step) => streams.stderr.write(`${stepLine(step)}\n`)
  let opened: SchemaApi | null = null
  try {
    const open = verbs[verb].local ? null : transport(invocation, env, onStep, streams)
    const api = async () => {
      if (open === null) throw new Error(`${verb} needs no database`)
      opened ??= await open()
      return opened
    }
    const output = await commands[verb]({ positionals: invocation.positionals, values: invocation.values, api, env })
    streams.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text)
    if (output.stderr !== undefined) streams.stderr.write(output.stderr)
    return output.exitCode ?? exitCodes.ok
  } catch (error) {
    if (error instanceof UsageError) {
      streams.stderr.write(`aip-schema: ${error.message}\n`)
      return exitCodes.usage
    }
    const problem = withNextStep(problemOf(error))
    streams.stderr.write(json ? `${JSON.stringify(problem, null, 2)}\n` : `FAILED: ${problem.detail}\n${problem.nextStep === undefined ? '' : `Next: ${String(problem.nextStep)}\n`}`)
    return problem.type === 'lock-not-acquired' ? exitCodes.lockNotHad : exitCodes.failure
  } finally {
    await (opened as SchemaApi | null)?.close()
  }
}

function transport (invocation: Extract<Invocation, { kind: 'verb' }>, env: NodeJS.ProcessEnv, onStep: StepListener, streams: Streams): () => Promise<SchemaApi> {
  if (invocation.url !== null) {
    const baseUrl = invocation.url
    if (!/^https?:\/\//.test(baseUrl)) throw new UsageError(`--url must be an http:// or https:// URL, not '${baseUrl}'`)
    return async () => (await import('./remote.js')).openRemote({ baseUrl, token: env.AIP_SCHEMA_TOKEN ?? null, onStep })
  }
  // The verbs take the migration lock and write the bookkeeping: they need the direct connection.
  const databaseUrl = env.MIGRATION_DATABASE_URL === undefined || env.MIGRATION_DATABASE_URL === '' ? env.DATABASE_URL : env.MIGRATION_DATABASE_URL
  if (databaseUrl === undefined || databaseUrl === '') {
    throw new UsageError(`${invocation.verb} needs DATABASE_URL (or MIGRATION_DATABASE_URL) set, or --url <service> to go through a running service`)
  }
  const lockWaitMs = milliseconds(env, 'MIGRATION_LOCK_WAIT_MS', 30_000)
  const lockTimeoutMs = milliseconds(env, 'MIGRATION_LOCK_TIMEOUT_MS', 10_000)
  const lockRetry = { retries: whole(env, 'MIGRATION_LOCK_RETRIES', defaultLockRetryPolicy.retries), baseMs: milliseconds(env, 'MIGRATION_LOCK_RETRY_BASE_MS', defaultLockRetryPolicy.baseMs) }
  const groupMs = milliseconds(env, 'MIGRATION_GROUP_MS', defaultGroupMs)
  const review = { approvalRequired: env.MIGRATION_APPROVAL === 'required', largeTableRows: whole(env, 'LINT_LARGE_TABLE_ROWS', 100_000) }
  return async () => (await import('./direct.js')).openDirect({
    databaseUrl,
    review,
    lockWaitMs,
    lockTimeoutMs,
    lockRetry,
    groupMs,
    onStep,
    onWarning: (message) => streams.stderr.write(`WARNING: ${message}\n`),
  })
}

function milliseconds (env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return whole(env, name, fallback, ' of milliseconds')
}

/** A whole number from the environment: a count, or with `unit` a measure. */
function whole (env: NodeJS.ProcessEnv, name: string, fallback: number, unit = ''): number {
  const value = env[name]
  if (value === undefined || value === '') return fallback
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number${unit}, not '${value}'`)
  return Number(value)
}

/** Every failure prints as a problem: the service's own, or the engine's error told the same way. */
function problemOf (error: unknown): CliProblem {
  if (error instanceof CliFailure) return error.problem
  if (error instanceof MigratorError || error instanceof ReviewError) return engineProblem(error)
  const code = (error as NodeJS.ErrnoException).code
  return { type: 'error', detail: (error as Error).message || String(code ?? error), ...(code === undefined ? {} : { code }) }
}

/** The service says what to do next in requests; here it is said in commands, whichever transport failed. */
function withNextStep (problem: CliProblem): CliProblem {
  const { nextStep: _overHttp, ...rest } = problem
  const nextStep = nextStepInCli(problem)
  return { ...rest, type: problem.type, detail: problem.detail, ...(nextStep === null ? {} : { nextStep }) }
}

/** The kind names the problem, as the service's `type` does; the error's fields go beside its message. */
function engineProblem (error: MigratorError | ReviewError): CliProblem {
  const { kind, databaseCode, ...fields } = { ...error } as Record<string, unknown>
  return { type: String(kind), detail: error.message, ...fields, ...(databaseCode === undefined ? {} : { code: databaseCode }) }
}
