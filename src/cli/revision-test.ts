import type { RevisionResult, RevisionTestReport } from '../revision-test/index.js'
import type { VerbContext, VerbOutput } from './commands.js'
import { UsageError } from './usage.js'

/** Ctrl+C (or a CI job's SIGTERM) mid-run: what a shell expects of a command it interrupted. */
const exitOnSignal = { SIGINT: 130, SIGTERM: 143 } as const

/** `aip-schema test`: the revision-test module on a scratch database of the command's server, told as a table. */
export async function revisionTestVerb ({ values, databaseUrl, note }: VerbContext): Promise<VerbOutput> {
  if (typeof values.url === 'string') throw new UsageError('test makes a scratch database on a PostgreSQL server; it does not run through a service (--url)')
  const { testRevisions, RevisionTestError } = await import('../revision-test/index.js')
  const serverUrl = await databaseUrl()
  const controller = new AbortController()
  let signalled: keyof typeof exitOnSignal | null = null
  const stop = (signal: keyof typeof exitOnSignal) => {
    signalled = signal
    controller.abort()
  }
  const onSigint = () => stop('SIGINT')
  const onSigterm = () => stop('SIGTERM')
  process.once('SIGINT', onSigint).once('SIGTERM', onSigterm)
  try {
    const report = await testRevisions({
      serverUrl,
      migrationsDir: optional(values.dir),
      snapshotsDir: optional(values.snapshots),
      from: optional(values.from),
      to: optional(values.to),
      signal: controller.signal,
      onRevision: (result) => note(`${result.revision}: ${result.problem === null ? 'ok' : 'FAILED'}\n`),
      onNote: (line) => note(`note: ${line}\n`),
    })
    return { json: report, text: reportText(report), exitCode: report.ok ? 0 : 1 }
  } catch (error) {
    if (!(error instanceof RevisionTestError)) throw error
    if (error.kind === 'bad-bounds') throw new UsageError(`test: ${error.message}`)
    return { json: { ok: false, interrupted: true }, text: '', stderr: `aip-schema: ${error.message}\n`, exitCode: exitOnSignal[signalled ?? 'SIGINT'] }
  } finally {
    process.off('SIGINT', onSigint).off('SIGTERM', onSigterm)
  }
}

function optional (value: string | boolean | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** A table per revision with its times, then what failed. */
export function reportText (report: RevisionTestReport): string {
  const header = ['revision', 'up ms', 'down ms', 're-up ms', 'result']
  const rows = report.revisions.map((result) => [result.revision, time(result.up), time(result.down), time(result.reup), resultOf(result)])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)))
  const line = (cells: readonly string[]) => cells.map((cell, column) => column === 0 || column === 4 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number)).join('  ').trimEnd()
  const failures = [
    ...report.heads.length > 1 ? [`${report.heads.length} heads: ${report.heads.join(', ')} (join them: aip-schema merge -m "<message>" heads)`] : [],
    ...report.revisions.flatMap((result) => result.problem === null ? [] : [result.problem]),
  ]
  const verdict = report.ok
    ? `OK: ${report.revisions.length} revision(s) went up, down and up again with rows in their tables, the schema equal to their snapshots each time\n`
    : failures.map((failure) => `FAILED: ${failure}\n`).join('')
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${verdict}`
}

function time (direction: { ok: boolean, ms: number }): string {
  return direction.ok ? String(direction.ms) : direction.ms === 0 ? '-' : `${direction.ms} ✗`
}

function resultOf (result: RevisionResult): string {
  if (result.problem === null) return 'ok'
  for (const direction of ['up', 'down', 'reup'] as const) if (!result[direction].ok) return `FAILED ${direction}`
  return 'FAILED'
}
