import { parseArgs, type ParseArgsConfig } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>

export interface VerbSpec {
  readonly synopsis: string
  readonly summary: string
  readonly details: string
  readonly positionals: { readonly min: number, readonly max: number }
  readonly options: Options
  /** `revision` and `merge` write files from the migrations directory and need no database. */
  readonly local: boolean
}

const dryRun = { 'dry-run': { type: 'boolean' } } as const satisfies Options
const verbose = { verbose: { type: 'boolean', short: 'v' } } as const satisfies Options
const scaffold = {
  message: { type: 'string', short: 'm' },
  dir: { type: 'string' },
} as const satisfies Options

export const verbs = {
  current: {
    synopsis: 'current [--verbose]',
    summary: 'the revisions the database is at',
    details: 'Prints each revision in alembic_version, marked (head) when it is one; nothing at base.',
    positionals: { min: 0, max: 0 },
    options: verbose,
    local: false,
  },
  history: {
    synopsis: 'history [-r start:end] [--verbose] [-i]',
    summary: 'every revision, newest first',
    details: 'start and end are revision ids or prefixes, base, head(s) or current; either may be left out. -i marks the current revisions.',
    positionals: { min: 0, max: 0 },
    options: { ...verbose, 'rev-range': { type: 'string', short: 'r' }, 'indicate-current': { type: 'boolean', short: 'i' } },
    local: false,
  },
  heads: {
    synopsis: 'heads [--verbose]',
    summary: 'the heads of the revision graph',
    details: 'Revisions no other revision revises.',
    positionals: { min: 0, max: 0 },
    options: verbose,
    local: false,
  },
  show: {
    synopsis: 'show <rev>',
    summary: 'one revision: its parents, date and SQL',
    details: '<rev> is an id or a unique prefix of one.',
    positionals: { min: 1, max: 1 },
    options: {},
    local: false,
  },
  upgrade: {
    synopsis: 'upgrade [target] [--dry-run] [--plan <planId>]',
    summary: 'run migrations up to a target (default head)',
    details: 'Targets: head, heads, an id or prefix, +N, <rev>+N. --dry-run runs the steps in a transaction, prints their SQL and rolls back. --plan runs exactly an approved plan\'s steps, only from the state it was made against (required with MIGRATION_APPROVAL=required).',
    positionals: { min: 0, max: 1 },
    options: { ...dryRun, plan: { type: 'string' } },
    local: false,
  },
  downgrade: {
    synopsis: 'downgrade <target> [--dry-run]',
    summary: 'revert migrations down to a target',
    details: 'Targets: base, an id or prefix, -N, <rev>-N. --dry-run runs the steps in a transaction, prints their SQL and rolls back.',
    positionals: { min: 1, max: 1 },
    options: dryRun,
    local: false,
  },
  stamp: {
    synopsis: 'stamp <target> [--purge]',
    summary: 'write the version table without running migrations',
    details: '--purge first empties alembic_version, also of revisions this code does not know.',
    positionals: { min: 1, max: 1 },
    options: { purge: { type: 'boolean' } },
    local: false,
  },
  check: {
    synopsis: 'check [--lint]',
    summary: 'exit 1 unless the database is at head and its applied revisions are unchanged',
    details: 'For CI pipelines. Directly against the database it also verifies the checksums of applied revisions; through --url the service answers only whether it is at head. --lint also plans the pending steps and fails on an error finding their revisions do not acknowledge.',
    positionals: { min: 0, max: 0 },
    options: { lint: { type: 'boolean' } },
    local: false,
  },
  plan: {
    synopsis: 'plan [target] [--downgrade]',
    summary: 'what an upgrade (or downgrade) would run, linted against the live database',
    details: 'Runs nothing and takes no lock: each step\'s SQL with the findings of Squawk under their statement, sized by the live row counts (error on a table of LINT_LARGE_TABLE_ROWS rows or more). The plan is kept; its id is what approve and upgrade --plan take. target defaults to head; a downgrade names one.',
    positionals: { min: 0, max: 1 },
    options: { downgrade: { type: 'boolean' } },
    local: false,
  },
  approve: {
    synopsis: 'approve <planId> [--override <reason>]',
    summary: 'approve a plan, so upgrade --plan may run it',
    details: 'A plan with unacknowledged error findings needs --override with the reason, which the plan keeps. Through --url it needs an admin token, and not the one that asked for the plan when several are configured.',
    positionals: { min: 1, max: 1 },
    options: { override: { type: 'string' } },
    local: false,
  },
  revision: {
    synopsis: 'revision -m <message> [--head <rev>] [--breaking] [--dir <dir>] [--autogenerate [--to-sql <file>] [--snapshots <dir>]]',
    summary: 'write a new migration module on top of the head: empty, or generated from the database',
    details: 'The new module gets a fresh 12-hex id and revises the head; with several heads, --head names the one to build on. --breaking marks it the contract phase of expand/contract: once applied, replicas of older releases turn unready. --dir defaults to src/migrations.\n' +
      '--autogenerate writes the SQL that turns the head\'s schema (its snapshot in --snapshots, default schema-snapshots) into the schema of the ' +
      'database (found as every command finds it), which must be at that head, or of the SQL file --to-sql names (run in a scratch database on the same server). ' +
      'Indexes and constraints on existing tables are built online, in a second, non-transactional revision when needed. ' +
      'Both directions are run on a scratch database first; nothing is written unless up gives the desired schema and down the head\'s. ' +
      'A drop is marked breaking; what it cannot write (views, triggers, sequences...) is listed, and the exit code is then 1.',
    positionals: { min: 0, max: 0 },
    options: { ...scaffold, head: { type: 'string' }, breaking: { type: 'boolean' }, autogenerate: { type: 'boolean' }, 'to-sql': { type: 'string' }, snapshots: { type: 'string' } },
    local: true,
  },
  merge: {
    synopsis: 'merge -m <message> <rev> <rev>... | heads [--dir <dir>]',
    summary: 'write a migration module that joins several heads',
    details: '"heads" names every head. --dir defaults to src/migrations.',
    positionals: { min: 1, max: Number.POSITIVE_INFINITY },
    options: scaffold,
    local: true,
  },
} as const satisfies Record<string, VerbSpec>

export type VerbName = keyof typeof verbs

const globalOptions = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options

export class UsageError extends Error {}

export type Invocation =
  | { readonly kind: 'help', readonly text: string }
  | {
    readonly kind: 'verb'
    readonly verb: VerbName
    readonly positionals: string[]
    readonly values: Record<string, string | boolean | undefined>
    readonly url: string | null
    readonly json: boolean
  }

export function parseInvocation (argv: readonly string[]): Invocation {
  // The command is the first argument that is neither an option nor a global option's value.
  const { tokens } = parseArgs({ args: [...argv], options: globalOptions, strict: false, allowPositionals: true, tokens: true })
  const command = tokens.find((token) => token.kind === 'positional')
  const name = command?.value
  if (command === undefined || name === undefined) {
    if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help', text: overview() }
    throw new UsageError('no command given')
  }
  if (!isVerb(name)) throw new UsageError(`unknown command '${name}'`)
  const spec: VerbSpec = verbs[name]
  let parsed
  try {
    parsed = parseArgs({ args: relativeTargetsLast(argv.filter((_arg, index) => index !== command.index)), options: { ...globalOptions, ...spec.options }, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}`)
  }
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (values.help === true) return { kind: 'help', text: verbHelp(name) }
  const { min, max } = spec.positionals
  if (parsed.positionals.length < min) throw new UsageError(`${name}: missing argument (usage: aip-schema ${spec.synopsis})`)
  if (parsed.positionals.length > max) throw new UsageError(`${name}: unexpected argument '${parsed.positionals[max]}' (usage: aip-schema ${spec.synopsis})`)
  return {
    kind: 'verb',
    verb: name,
    positionals: parsed.positionals,
    values,
    url: typeof values.url === 'string' ? values.url : null,
    json: values.json === true,
  }
}

/** `downgrade -1` is Alembic's own spelling: a relative target is an argument, not an option. */
function relativeTargetsLast (args: readonly string[]): string[] {
  const relative = (arg: string) => /^-\d+$/.test(arg)
  const rest = args.filter((arg) => !relative(arg))
  const targets = args.filter(relative)
  if (targets.length === 0) return rest
  return rest.includes('--') ? [...rest, ...targets] : [...rest, '--', ...targets]
}

function isVerb (name: string): name is VerbName {
  return Object.hasOwn(verbs, name)
}

const transports = `Against MIGRATION_DATABASE_URL (else DATABASE_URL, else the embedded database of DATA_DIR, default
./.data, that \`npm start\` made) directly, or a running service with --url <base url> (token from
AIP_SCHEMA_TOKEN). --json prints the API's objects. Exit codes: 0 success, 1 failure, 2 bad usage,
3 the migration lock was not had.`

export function overview (): string {
  const width = Math.max(...Object.keys(verbs).map((verb) => verb.length))
  const lines = Object.entries(verbs).map(([verb, spec]) => `  ${verb.padEnd(width)}  ${spec.summary}`)
  return `usage: aip-schema <command> [options] [--url <url>] [--json]\n\n${lines.join('\n')}\n\n${transports}\n\`aip-schema <command> --help\` tells more.\n`
}

export function verbHelp (name: VerbName): string {
  const spec: VerbSpec = verbs[name]
  const scope = spec.local ? '' : '\n\n  --url <url>  drive the service at <url> instead of the database itself\n  --json       machine output'
  return `usage: aip-schema ${spec.synopsis}${spec.local ? ' [--json]' : ' [--url <url>] [--json]'}\n\n${spec.summary}.\n${spec.details}${scope}\n`
}
