import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const serverScript = fileURLToPath(new URL('../../dist/server.js', import.meta.url))

export interface RunningServer {
  readonly child: ChildProcess
  readonly port: number
  readonly baseUrl: string
  output (): string
  /** Resolves with the exit code (null when killed by a signal). */
  stop (signal?: NodeJS.Signals): Promise<number | null>
}

/** The service as a user runs it (`npm start` is `node dist/server.js`, of this checkout or of `script`'s), as a child process. */
export async function startServer (env: Record<string, string>, timeoutMs = 60_000, script = serverScript): Promise<RunningServer> {
  const port = await freePort()
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const baseUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${output}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the server did not answer within ${timeoutMs} ms: ${output}`)
    }
    const live = await fetch(`${baseUrl}/health/live`).then((res) => res.ok, () => false)
    if (live) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    child,
    port,
    baseUrl,
    output: () => output,
    async stop (signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Runs the server expecting it to exit on its own; resolves with its exit code and output. */
export async function runServerToExit (env: Record<string, string>, script = serverScript): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const [code] = await once(child, 'exit')
  return { code: code as number | null, output }
}

export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}
