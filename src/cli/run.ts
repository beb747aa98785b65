import { ConfigError } from '../config-error.js'
import { MigratorError } from '../migrator/errors.js'
import { ReviewError } from '../review/errors.js'
import { CliFailure, type CliProblem, type ProgressReporter, type SchemaApi } from './api.js'
import { commands } from './commands.js'
import { openCliDatabase } from './database.js'
import { isLiveTerminal, lineProgress, terminalProgress, type Progress } from './progress.js'
import { overview, parseInvocation, UsageError, verbs, type Invocation } from './usage.js'

export interface Streams {
  readonly stdout: { write (text: string): unknown }
  /** A terminal (`process.stderr` on one) gets live progress; anything else a line per step. */
  readonly stderr: { write (text: string): unknown, readonly isTTY?: boolean }
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
  const progress = progressFor(streams, env, json)
  let opened: SchemaApi | null = null
  try {
    const open = verbs[verb].local ? null : transport(invocation, env, progress, streams)
    const api = async () => {
      if (open === null) throw new Error(`${verb} needs no database`)
      opened ??= await open()
      return opened
    }
    const output = await commands[verb]({ positionals: invocation.positionals, values: invocation.values, api, env })
    progress.end(true)
    streams.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text)
    if (output.stderr !== undefined) streams.stderr.write(output.stderr)
    return output.exitCode ?? exitCodes.ok
  } catch (error) {
    progress.end(false)
    if (error instanceof UsageError || error instanceof ConfigError) {
      streams.stderr.write(`aip-schema: ${error.message}\n`)
      return exitCodes.usage
    }
    const problem = problemOf(error)
    streams.stderr.write(json ? `${JSON.stringify(problem, null, 2)}\n` : `FAILED: ${problem.detail}\n`)
    return problem.type === 'lock-not-acquired' ? exitCodes.lockNotHad : exitCodes.failure
  } finally {
    await (opened as SchemaApi | null)?.close()
  }
}

/** Live on a terminal; otherwise (a pipe, a log, `--json`) Alembic's line per step, as it always was. */
function progressFor (streams: Streams, env: NodeJS.ProcessEnv, json: boolean): Progress {
  const { stderr } = streams
  if (!json && isLiveTerminal(stderr, env)) return terminalProgress(stderr as NodeJS.WriteStream)
  return lineProgress((text) => stderr.write(text))
}

function transport (invocation: Extract<Invocation, { kind: 'verb' }>, env: NodeJS.ProcessEnv, progress: ProgressReporter, streams: Streams): () => Promise<SchemaApi> {
  if (invocation.url !== null) {
    const baseUrl = invocation.url
    if (!/^https?:\/\//.test(baseUrl)) throw new UsageError(`--url must be an http:// or https:// URL, not '${baseUrl}'`)
    return async () => (await import('./remote.js')).openRemote({ baseUrl, token: env.AIP_SCHEMA_TOKEN ?? null, progress })
  }
  return async () => {
    // The service's own settings, read by its own schema: the command line migrates as the service would.
    const settings = (await import('../config.js')).loadMigrationSettings(env)
    const database = await openCliDatabase(settings)
    // Which database, said once where a person reads it; `--json` keeps stderr to the problem.
    if (!invocation.json) streams.stderr.write(`Database: ${database.description}\n`)
    try {
      const api = await (await import('./direct.js')).openDirect({
        databaseUrl: database.url,
        settings,
        progress,
        onWarning: (message) => streams.stderr.write(`WARNING: ${message}\n`),
      })
      return { ...api, close: () => api.close().finally(() => database.release()) }
    } catch (error) {
      await database.release()
      throw error
    }
  }
}

/** Every failure prints as a problem: the service's own, or the engine's error told the same way. */
function problemOf (error: unknown): CliProblem {
  if (error instanceof CliFailure) return error.problem
  if (error instanceof MigratorError || error instanceof ReviewError) return engineProblem(error)
  const code = (error as NodeJS.ErrnoException).code
  return { type: 'error', detail: (error as Error).message || String(code ?? error), ...(code === undefined ? {} : { code }) }
}

/** The kind names the problem, as the service's `type` does; the error's fields go beside its message. */
function engineProblem (error: MigratorError | ReviewError): CliProblem {
  const { kind, databaseCode, ...fields } = { ...error } as Record<string, unknown>
  return { type: String(kind), detail: error.message, ...fields, ...(databaseCode === undefined ? {} : { code: databaseCode }) }
}
