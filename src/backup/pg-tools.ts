import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Where pg_dump and pg_restore are: PG_BIN_DIR, else whatever PATH finds. */
export function pgTool (binDir: string | undefined, tool: 'pg_dump' | 'pg_restore'): string {
  return binDir === undefined ? tool : join(binDir, tool)
}

/** The major version a pg tool reports (`pg_dump (PostgreSQL) 15.20`); a message when it cannot run. */
export async function toolMajor (path: string): Promise<{ major: number } | { problem: string }> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 10_000 })
    const major = /\(PostgreSQL\)\s+(\d+)/.exec(stdout)?.[1]
    return major === undefined ? { problem: `${path} --version printed no PostgreSQL version: ${stdout.trim()}` } : { major: Number(major) }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return { problem: code === 'ENOENT' ? `${path} is not installed (not found${path.includes('/') ? '' : ' on PATH'}; set PG_BIN_DIR)` : `${path} --version failed: ${(error as Error).message}` }
  }
}

/**
 * A connection for a pg tool: the URL without its password, which goes in PGPASSWORD, so it is
 * never in the process list (argv) nor in a message.
 */
export function connectionOf (databaseUrl: string): { dbname: string, env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl)
  const password = decodeURIComponent(url.password)
  url.password = ''
  return { dbname: url.toString(), env: password === '' ? {} : { PGPASSWORD: password } }
}

/** Runs a pg tool; its stderr's last lines are the failure's reason (the tools never print the password). */
export async function runTool (path: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(path, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  if (code !== 0) throw new Error(`${path} exited with ${String(code)}: ${stderr.trim().split('\n').slice(-3).join(' ')}`)
}
