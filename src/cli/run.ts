import { ConfigError } from '../config-error.js'
import type { MigrationSettings } from '../config.js'
import type { ProgressReporter, SchemaApi } from './api.js'
import { commands } from './commands.js'
import { openCliDatabase, type CliDatabase } from './database.js'
import { problemOf, withNextStep } from './problems.js'
import { isLiveTerminal, lineProgress, type Progress } from './progress.js'
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
  const progress = await progressFor(streams, env, json)
  const database = databaseOf(env, json, streams)
  let opened: SchemaApi | null = null
  try {
    const open = verbs[verb].local ? null : transport(invocation, env, { progress, database, streams })
    const api = async () => {
      if (open === null) throw new Error(`${verb} needs no database`)
      opened ??= await open()
      return opened
    }
    const databaseUrl = async () => (await database.open()).database.url
    const note = (line: string) => { if (!json) streams.stderr.write(line) }
    const output = await commands[verb]({ positionals: invocation.positionals, values: invocation.values, api, databaseUrl, note, progress: json ? null : progress, remote: invocation.url !== null })
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
    const problem = withNextStep(problemOf(error))
    streams.stderr.write(json ? `${JSON.stringify(problem, null, 2)}\n` : `FAILED: ${problem.detail}\n${problem.nextStep === undefined ? '' : `Next: ${String(problem.nextStep)}\n`}`)
    return problem.type === 'lock-not-acquired' ? exitCodes.lockNotHad : exitCodes.failure
  } finally {
    await (opened as SchemaApi | null)?.close()
    await database.release()
  }
}

interface OpenedDatabase {
  readonly settings: MigrationSettings
  readonly database: CliDatabase
}

/** The verb's database, found on first use as the service would find it, said on stderr, let go when the verb ends. */
function databaseOf (env: NodeJS.ProcessEnv, json: boolean, streams: Streams): { open (): Promise<OpenedDatabase>, release (): Promise<void> } {
  let opening: Promise<OpenedDatabase> | null = null
  return {
    open: () => (opening ??= (async () => {
      // The service's own settings, read by its own schema: the command line migrates as the service would.
      const settings = (await import('../config.js')).loadMigrationSettings(env)
      const database = await openCliDatabase(settings)
      // Which database, said once where a person reads it; `--json` keeps stderr to the problem.
      if (!json) streams.stderr.write(`Database: ${database.description}\n`)
      return { settings, database }
    })()),
    release: async () => {
      const opened = await opening?.catch(() => null)
      await opened?.database.release()
    },
  }
}

/** Live on a terminal; otherwise (a pipe, a log, `--json`) Alembic's line per step, as it always was. */
async function progressFor (streams: Streams, env: NodeJS.ProcessEnv, json: boolean): Promise<Progress> {
  const { stderr } = streams
  // Loaded only for a terminal: a deploy job's run does without the spinner's modules.
  if (!json && isLiveTerminal(stderr, env)) return (await import('./terminal-progress.js')).terminalProgress(stderr as NodeJS.WriteStream)
  return lineProgress((text) => stderr.write(text))
}

function transport (invocation: Extract<Invocation, { kind: 'verb' }>, env: NodeJS.ProcessEnv, context: { progress: ProgressReporter, database: ReturnType<typeof databaseOf>, streams: Streams }): () => Promise<SchemaApi> {
  const { progress, streams } = context
  if (invocation.url !== null) {
    const baseUrl = invocation.url
    if (!/^https?:\/\//.test(baseUrl)) throw new UsageError(`--url must be an http:// or https:// URL, not '${baseUrl}'`)
    return async () => (await import('./remote.js')).openRemote({ baseUrl, token: env.AIP_SCHEMA_TOKEN ?? null, progress })
  }
  return async () => {
    const { settings, database } = await context.database.open()
    return (await import('./direct.js')).openDirect({
      databaseUrl: database.url,
      settings,
      progress,
      onWarning: (message) => streams.stderr.write(`WARNING: ${message}\n`),
    })
  }
}
