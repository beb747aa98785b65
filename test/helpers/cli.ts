import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export const cliScript = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** stdout parsed, for `--json` runs. */
  json<T = any> (): T
}

/** The built CLI as a user runs it: a process of its own, with only the environment given. */
export async function runCli (args: readonly string[], env: Record<string, string> = {}, options: { cwd?: string } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [cliScript, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return {
    code,
    stdout,
    stderr,
    json () {
      try {
        return JSON.parse(stdout)
      } catch {
        throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`)
      }
    },
  }
}

/**
 * The built CLI on a pseudo-terminal, as a person at one runs it: `script` gives it a terminal
 * and writes what the terminal showed (stdout and stderr together, escape codes and all).
 */
export async function runCliInTerminal (args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null, output: string }> {
  const command = [process.execPath, cliScript, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm-256color', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, output }
}
