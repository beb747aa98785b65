import type { ArchiveList, HistoryEntry, SchemaApi, SchemaStatus } from './api.js'
import { historyLine, migrationSummary, revisionBlock, revisionLine, revisionsText, showText } from './format.js'
import { approvalText, planText, unacknowledgedErrors } from './plan-format.js'
import { fleetTable, targetsTable } from './fleet-format.js'
import type { Progress } from './progress.js'
import { UsageError, type VerbName } from './usage.js'

export interface VerbContext {
  readonly positionals: readonly string[]
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>
  /** Opened on first use: `revision` and `merge` never connect. */
  readonly api: () => Promise<SchemaApi>
  /** The database itself, for `revision --autogenerate`: found as the direct transport finds it. */
  readonly databaseUrl: () => Promise<string>
  /** A line for the person watching, on stderr while the verb runs; dropped under `--json`. */
  readonly note: (line: string) => void
  /** What the person watching sees of a run followed on the service: live on a terminal, lines in a log; null under `--json`. */
  readonly progress: Progress | null
  /** Whether `api()` is a running service (`--url`), not the database itself. */
  readonly remote: boolean
}

export interface VerbOutput {
  /** What `--json` prints: the API's own object for the verbs the API has. */
  readonly json: unknown
  readonly text: string
  readonly exitCode?: number
  /** Printed on stderr whatever the output format. */
  readonly stderr?: string
}

type Command = (context: VerbContext) => Promise<VerbOutput>

/** One implementation per verb; the transport behind `api()` is the only difference between direct and `--url`. */
export const commands: Record<VerbName, Command> = {
  async targets ({ api }) {
    const list = await (await api()).targets()
    return { json: list, text: targetsTable(list) }
  },

  async fleet ({ api, values }) {
    const labels = [values.label ?? []].flat().filter((label) => typeof label === 'string')
    const bad = labels.find((label) => !/^[^:]+:/.test(label))
    if (bad !== undefined) throw new UsageError(`fleet: --label ${bad} is not k:v`)
    const fleet = await (await api()).fleet({ environment: typeof values.env === 'string' ? values.env : undefined, labels })
    return { json: fleet, text: fleetTable(fleet) }
  },

  async current ({ api, values }) {
    const status = await (await api()).current()
    if (values.verbose === true) {
      const entries = await historyById(await api())
      const blocks = status.current.map((id) => entries.get(id)).filter((entry) => entry !== undefined).map((entry) => revisionBlock(entry))
      return { json: status, text: `Current revision(s):\n${blocks.join('\n')}${lines(releaseNotes(status))}` }
    }
    const heads = new Set(status.heads)
    return { json: status, text: lines([...status.current.map((id) => revisionLine(id, heads.has(id))), ...releaseNotes(status)]) }
  },

  async heads ({ api, values }) {
    const heads = await (await api()).heads()
    if (values.verbose === true) {
      const entries = await historyById(await api())
      return { json: heads, text: heads.heads.map(({ revision }) => revisionBlock(entries.get(revision) as HistoryEntry)).join('\n') }
    }
    return { json: heads, text: lines(heads.heads.map(({ revision }) => revisionLine(revision, true))) }
  },

  async history ({ api, values }) {
    const bounds = typeof values['rev-range'] === 'string' ? splitRange(values['rev-range']) : null
    const schema = await api()
    const { revisions } = await schema.history()
    const range = bounds === null ? { start: null, end: null } : await resolveRange(schema, bounds)
    const shown = inRange(revisions, range)
    const branchPoints = branchPointsOf(revisions)
    const current = values['indicate-current'] === true ? new Set((await schema.current()).current) : new Set<string>()
    const text = values.verbose === true
      ? shown.map((entry) => revisionBlock(entry, branchPoints)).join('\n')
      : lines(shown.map((entry) => historyLine(entry, branchPoints, current)))
    return { json: { revisions: shown }, text }
  },

  async show ({ api, positionals }) {
    const detail = await (await api()).revision(positionals[0] as string)
    return { json: detail, text: showText(detail) }
  },

  async upgrade ({ api, positionals, values }) {
    const planId = typeof values.plan === 'string' ? values.plan : undefined
    const result = await (await api()).upgrade({ target: positionals[0] ?? (planId === undefined ? 'head' : undefined), dryRun: values['dry-run'] === true, planId })
    return { json: result, text: migrationSummary('upgrade', result) }
  },

  async downgrade ({ api, positionals, values }) {
    const result = await (await api()).downgrade({ target: positionals[0] as string, dryRun: values['dry-run'] === true })
    return { json: result, text: migrationSummary('downgrade', result) }
  },

  async stamp ({ api, positionals, values }) {
    const result = await (await api()).stamp({ target: positionals[0] as string, purge: values.purge === true })
    return { json: result, text: migrationSummary('stamp', result) }
  },

  async plan ({ api, positionals, values }) {
    const downgrade = values.downgrade === true
    if (downgrade && positionals[0] === undefined) throw new UsageError('plan --downgrade: a target is required (usage: aip-schema plan <target> --downgrade)')
    const plan = await (await api()).plan({ target: positionals[0] ?? 'head', direction: downgrade ? 'downgrade' : 'upgrade' })
    return { json: plan, text: planText(plan) }
  },

  async backups ({ api }) {
    const list = await (await api()).backups()
    return { json: list, text: list.backups.length === 0 ? 'No backups.\n' : lines(list.backups.map((backup) => `${backup.id}  ${backup.takenAt} before ${backup.kind} ${backup.target}: ${backup.path}, ${backup.bytes} bytes, sha256 ${backup.sha256}`)) }
  },

  async 'restore-backup' ({ api, positionals, values }) {
    if (typeof values.into !== 'string') throw new UsageError('restore-backup: --into <url> is required (usage: aip-schema restore-backup <id> --into <url> [--force])')
    const restored = await (await api()).restoreBackup(positionals[0] as string, { into: values.into, force: values.force === true })
    return { json: restored, text: `Restored the backup taken before ${restored.restored.kind} ${restored.restored.target} (${restored.restored.takenAt}) into ${restored.into}.\n` }
  },

  async archives ({ api }) {
    const list = await (await api()).archives()
    return { json: list, text: list.archives.length === 0 ? 'No archives.\n' : lines(list.archives.map(archiveLine)) }
  },

  async restore ({ api, positionals, values }) {
    const id = Number(positionals[0])
    if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`restore: '${positionals[0] ?? ''}' is not an archive id`)
    const into = typeof values.into === 'string' ? values.into : undefined
    const restored = await (await api()).restoreArchive(id, into === undefined ? {} : { into })
    return { json: restored, text: `Restored ${restored.restoredRows} row${restored.restoredRows === 1 ? '' : 's'} from archive ${id}${into === undefined ? '' : ` into ${into}`}.\n` }
  },

  async approve ({ api, positionals, values }) {
    const plan = await (await api()).approve(positionals[0] as string, typeof values.override === 'string' ? { override: values.override } : {})
    return { json: plan, text: approvalText(plan) }
  },

  async check ({ api, values }) {
    const schema = await api()
    const status = await schema.current()
    const findings: string[] = []
    if (!status.upToDate) {
      findings.push(`the database is at ${revisionsText(status.current)}, not at head ${revisionsText(status.heads)}; pending: ${status.pending.join(', ') || 'none'}`)
    }
    const lint = values.lint === true ? await schema.plan({ target: 'heads', direction: 'upgrade' }) : null
    if (lint !== null) findings.push(...unacknowledgedErrors(lint))
    const integrity = await schema.integrity()
    findings.push(...integrity ?? [])
    const drift = await schema.drift()
    if ('report' in drift) findings.push(...drift.report.differences.map((difference) => `drift: ${difference.detail}`))
    const notes = [
      ...integrity === null ? ['checksums not verified: the service does not expose them; run check against the database itself for that'] : [],
      ...'unavailable' in drift ? [`drift not checked: ${drift.unavailable}`] : [],
    ]
    const ok = findings.length === 0
    const text = ok
      ? `OK: ${revisionsText(status.current)} is head${integrity === null ? '' : ', applied revisions unchanged'}${'report' in drift ? ', no drift' : ''}\n`
      : lines(findings.map((finding) => `FAILED: ${finding}`))
    return {
      json: { ok, status, checksumsVerified: integrity !== null, drift: 'report' in drift ? drift.report : null, ...lint === null ? {} : { plan: lint }, findings, notes },
      text: text + lines(notes.map((note) => `note: ${note}`)),
      exitCode: ok ? 0 : 1,
    }
  },

  async rollout (context) {
    const { rolloutVerb } = await import('./rollout.js')
    return rolloutVerb(context)
  },

  async test (context) {
    const { revisionTestVerb } = await import('./revision-test.js')
    return revisionTestVerb(context)
  },

  async revision ({ values, databaseUrl }) {
    if (values.autogenerate === true) return autogenerated(values, databaseUrl)
    for (const option of ['to-sql', 'snapshots'] as const) {
      if (values[option] !== undefined) throw new UsageError(`revision: --${option} goes with --autogenerate`)
    }
    const { writeRevision } = await import('../authoring/scaffold.js')
    return scaffolded(await writeRevision({ message: requireMessage(values), dir: directory(values), head: typeof values.head === 'string' ? values.head : null, breaking: values.breaking === true, backfill: typeof values.backfill === 'string' ? values.backfill : null }))
  },

  async merge ({ values, positionals }) {
    const { writeMerge } = await import('../authoring/scaffold.js')
    return scaffolded(await writeMerge({ message: requireMessage(values), dir: directory(values), refs: [...positionals] }))
  },
}

interface Range { readonly start: ReadonlySet<string> | null, readonly end: ReadonlySet<string> | null }

/** Alembic's `-r start:end`; each side a revision or prefix, `base`, `head(s)` or `current`, or blank. */
function splitRange (text: string): [string, string] {
  const parts = text.split(':')
  if (parts.length !== 2) throw new UsageError(`history: the range '${text}' is not start:end, start: or :end`)
  return parts as [string, string]
}

async function resolveRange (schema: SchemaApi, bounds: [string, string]): Promise<Range> {
  const [start, end] = await Promise.all(bounds.map(async (part) => {
    if (part === '' || part === 'base' || part === 'head' || part === 'heads') return null
    if (part === 'current') return new Set((await schema.current()).current)
    return new Set([(await schema.revision(part)).revision])
  }))
  return { start: start ?? null, end: end ?? null }
}

/** Revisions descending from (or at) `start` and leading to (or at) `end`. */
function inRange (revisions: readonly HistoryEntry[], range: Range): HistoryEntry[] {
  const parents = new Map(revisions.map((entry) => [entry.revision, entry.downRevisions]))
  const withAncestors = (ids: Iterable<string>) => {
    const found = new Set<string>()
    const queue = [...ids]
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      if (found.has(id)) continue
      found.add(id)
      queue.push(...parents.get(id) ?? [])
    }
    return found
  }
  const below = range.end === null ? null : withAncestors(range.end)
  const { start } = range
  return revisions.filter((entry) =>
    (below === null || below.has(entry.revision)) &&
    (start === null || [...withAncestors([entry.revision])].some((id) => start.has(id))))
}

function branchPointsOf (revisions: readonly HistoryEntry[]): Set<string> {
  const childCount = new Map<string, number>()
  for (const entry of revisions) for (const parent of entry.downRevisions) childCount.set(parent, (childCount.get(parent) ?? 0) + 1)
  return new Set([...childCount].filter(([, count]) => count > 1).map(([id]) => id))
}

async function historyById (schema: SchemaApi): Promise<Map<string, HistoryEntry>> {
  return new Map((await schema.history()).revisions.map((entry) => [entry.revision, entry]))
}

async function autogenerated (values: VerbContext['values'], databaseUrl: VerbContext['databaseUrl']): Promise<VerbOutput> {
  if (typeof values.url === 'string') throw new UsageError('revision --autogenerate reads the database directly, not a service (--url)')
  const { autogenerate } = await import('../authoring/autogenerate.js')
  const result = await autogenerate({
    message: requireMessage(values),
    dir: directory(values),
    snapshotsDir: typeof values.snapshots === 'string' ? values.snapshots : 'schema-snapshots',
    // The database to read; with --to-sql, the server to make scratch databases on.
    databaseUrl: await databaseUrl(),
    toSql: typeof values['to-sql'] === 'string' ? values['to-sql'] : null,
    head: typeof values.head === 'string' ? values.head : null,
  })
  const written = result.revisions.flatMap((revision) => [`Generating ${revision.file} ... done`, `Generating ${revision.snapshot} ... done`])
  const halves = result.revisions.length > 1
    ? [`two revisions: ${result.revisions.map((revision) => `${revision.revision} (${revision.transactional ? 'transactional' : 'outside a transaction'})`).join(', then ')}`]
    : []
  const text = result.revisions.length === 0 && result.unsupported.length === 0
    ? `No changes against ${result.head}: nothing written\n`
    : lines([...written, ...halves.map((line) => `note: ${line}`), ...result.notes.map((note) => `note: ${note}`)])
  return {
    json: result,
    text,
    stderr: lines(result.unsupported.map((line) => `UNSUPPORTED: ${line}`)),
    exitCode: result.unsupported.length > 0 ? 1 : 0,
  }
}

function scaffolded (written: { revision: string, downRevisions: string[], description: string, createDate: string, file: string }): VerbOutput {
  return { json: written, text: `Generating ${written.file} ... done\n` }
}

function requireMessage (values: VerbContext['values']): string {
  const message = values.message
  if (typeof message !== 'string' || message.trim() === '') throw new UsageError('a message is required: -m "what the revision does"')
  return message
}

function directory (values: VerbContext['values']): string {
  return typeof values.dir === 'string' ? values.dir : 'src/migrations'
}

function lines (items: readonly string[]): string {
  return items.map((item) => `${item}\n`).join('')
}

/** What a newer release applied, and a revision cut off part-way, under the current revisions. */
function releaseNotes (status: SchemaStatus): string[] {
  const notes: string[] = []
  if (status.ahead.length > 0) {
    const breaking = status.breaking.length > 0 ? `; breaking: ${status.breaking.join(', ')} (this release cannot serve beside them)` : ''
    notes.push(`ahead of this code (applied by a newer release): ${status.ahead.join(', ')}${breaking}`)
  }
  if (status.interrupted !== null) {
    const { revision, operation, startedAt } = status.interrupted
    notes.push(`interrupted: ${revision} was cut off part-way (operation ${operation}, started ${startedAt}); the next upgrade resumes it`)
  }
  return notes
}

/** One archive on a line: what, from where, how big, and whether it came back. */
function archiveLine (archive: ArchiveList['archives'][number]): string {
  const what = archive.columns === null ? `${archive.table} (whole rows)` : `${archive.table}(${archive.columns.join(', ')})`
  const step = archive.revision === null ? '' : ` by ${archive.revision} ${archive.direction ?? ''}`.trimEnd()
  const state = archive.restoredAt === null ? `expires ${archive.expiresAt}` : `restored ${archive.restoredAt}`
  return `${archive.id}  ${archive.kind} ${what}${step}: ${archive.rows} rows, ${archive.bytes} bytes, ${state}`
}
