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
