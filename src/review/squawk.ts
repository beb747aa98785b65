import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'

/** One violation as Squawk's `--reporter json` prints it: lines and columns 0-based, columns in UTF-8 bytes. */
export interface SquawkViolation {
  readonly rule: string
  readonly level: string
  readonly message: string
  readonly help: string | null
  readonly line: number
  readonly column: number
}

interface RawViolation {
  readonly rule_name: string
  readonly level: string
  readonly message: string
  readonly help: string | null
  readonly line: number
  readonly column: number
}

/**
 * The engine sets both itself on every migration session, so Squawk's advice to set them is
 * already followed.
 */
export const excludedRules: ReadonlyArray<{ readonly rule: string, readonly reason: string }> = [
  { rule: 'require-lock-timeout', reason: 'the engine sets lock_timeout (MIGRATION_LOCK_TIMEOUT_MS) on every migration session' },
  { rule: 'require-statement-timeout', reason: 'the engine sets statement_timeout (MIGRATION_STATEMENT_TIMEOUT_MS) on every migration session' },
]

export const squawkVersion: string = (createRequire(import.meta.url)('squawk-cli/package.json') as { version: string }).version

let binaryPath: string | null = null

/**
 * The platform binary the package's own launcher would start: spawning it directly costs a few
 * milliseconds, going through the launcher (or npx) a Node.js start-up per step.
 */
export function squawkBinary (): string {
  binaryPath ??= (createRequire(import.meta.url)('squawk-cli/js/index.js') as { getBinaryPath (): string }).getBinaryPath()
  return binaryPath
}

/** Lints `sql` read from stdin; exit code 1 only means violations were found. */
export async function runSquawk (sql: string, options: { readonly inTransaction: boolean }): Promise<SquawkViolation[]> {
  const args = ['--reporter', 'json', `--exclude=${excludedRules.map((entry) => entry.rule).join(',')}`]
  if (options.inTransaction) args.push('--assume-in-transaction')
  const child = spawn(squawkBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  child.stdin.end(sql)
  const code = await exited
  if (code !== 0 && code !== 1) throw new Error(`squawk exited with ${code}: ${stderr.trim()}`)
  const raw = stdout.trim() === '' ? [] : JSON.parse(stdout) as RawViolation[]
  return raw.map((entry) => ({
    rule: entry.rule_name,
    level: entry.level,
    message: entry.message,
    help: entry.help,
    line: entry.line,
    column: entry.column,
  }))
}
