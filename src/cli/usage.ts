import { parseArgs, type ParseArgsConfig } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>

export interface VerbSpec {
  readonly synopsis: string
  readonly summary: string
  readonly details: string
  readonly positionals: { readonly min: number, readonly max: number }
  readonly options: Options
  /** No service behind them: `revision` and `merge` write files from the migrations directory; `test` makes a scratch database of its own. */
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
  archives: {
    synopsis: 'archives',
    summary: 'what migration steps destroyed and kept in schema aip_schema_archive',
    details: 'Each archive: its id, the revision and direction whose step made it, the table and columns (or whole rows), rows, bytes, and whether it was restored. Kept ARCHIVE_RETENTION_DAYS days.',
    positionals: { min: 0, max: 0 },
    options: {},
    local: false,
  },
  targets: {
    synopsis: 'targets',
    summary: 'the targets: this database, TARGETS_FILE\'s and the discovered ones',
    details: 'Name, environment, schema, labels, where it came from and its URL with the password shown as ***. Directly, TARGETS_FILE is read and each discovery catalog queried once.',
    positionals: { min: 0, max: 0 },
    options: {},
    local: false,
  },
  restore: {
    synopsis: 'restore <id> [--into <table>]',
    summary: 'put an archive back: into its live table by primary key, or into a new table',
    details: 'Without --into, the archived values go back into the table they came from (by primary key; whole rows that are missing are inserted): refused when the table lacks the archived columns. --into names a new table in the current schema. Through --url it needs an admin token.',
    positionals: { min: 1, max: 1 },
    options: { into: { type: 'string' } },
    local: false,
  },
  backups: {
    synopsis: 'backups',
    summary: 'the dumps BACKUP_BEFORE_UPGRADE=pg_dump took before migrations',
    details: 'Each by the operation that took it (its id is what restore-backup takes), with its file, size and SHA-256. Read from the audit log against the database directly (not through --url: the files are on the machine that took them).',
    positionals: { min: 0, max: 0 },
    options: {},
    local: false,
  },
  'restore-backup': {
    synopsis: 'restore-backup <id> --into <url> [--force]',
    summary: 'pg_restore a backup into another database',
    details: 'The file is checked against its recorded SHA-256 first. --into names the database to restore into (an empty one); the database the backup came from is refused unless --force, which then drops and re-creates its objects (--clean). The password goes to pg_restore in PGPASSWORD. PG_BIN_DIR says where pg_restore is.',
    positionals: { min: 1, max: 1 },
    options: { into: { type: 'string' }, force: { type: 'boolean' } },
    local: false,
  },
  test: {
    synopsis: 'test [--from <rev>] [--to <rev>] [--dir <dir>] [--snapshots <dir>]',
    summary: 'run every revision up, down and up again on a scratch database, with rows in its tables',
    details: 'Checks the graph (one head, unique ids, checksums that do not change from one load to the next), then on a scratch database made on the server the command finds and dropped after (also on Ctrl+C), ' +
      'for each revision from base to head: rows generated in every table from its columns\' types and constraints, up (the schema must equal the revision\'s snapshot), rows, down (the snapshot before it), rows, up again. ' +
      'Prints a table of the times; exit 1 names the revision, the direction and the difference. --from and --to (ids or prefixes) limit which revisions are tested; ' +
      '--dir and --snapshots test another migrations directory and its snapshots (default: this build\'s).',
    positionals: { min: 0, max: 0 },
    options: { from: { type: 'string' }, to: { type: 'string' }, dir: { type: 'string' }, snapshots: { type: 'string' } },
    local: true,
  },
  fleet: {
    synopsis: 'fleet [--env <environment>] [--label k:v]...',
    summary: 'where each target is: its revision, pending, ahead, reachable, last operation',
    details: 'A table, one target a line. Through --url it is the service\'s cache; directly, each target is read now, 8 at a time. --label may be given several times: every one must hold.',
    positionals: { min: 0, max: 0 },
    options: { env: { type: 'string' }, label: { type: 'string', multiple: true } },
    local: false,
  },
  rollout: {
    synopsis: 'rollout [<target>] [--env <environment>] [--label k:v]... [--target <name>]... [--parallel <n>] [--canary <n|n%>] [--max-failures <n>] [--on-error stop|continue] [--verb upgrade|downgrade|stamp] [--plan <id>] [--override <reason>] [--wait] | rollout status|pause|resume|cancel|retry <id> | rollout skip <id> <target>',
    summary: 'one verb to many targets through the running service: canary, waves, promotion; follow it, pause, resume, cancel, retry, skip',
    details: 'Through --url only: the service keeps the rollout and its replicas work it. `rollout head --env production --parallel 8 --wait` starts one (the target revision, head by default; --verb downgrade and stamp need an admin token) and, ' +
      'with --wait, follows it to its end, a live line on a terminal and a line per target as it finishes; exit 0 when it succeeded, 1 when it failed or was cancelled. `rollout status <id>` prints a target a line; ' +
      'pause, resume, cancel and retry act on the rollout, `skip <id> <target>` on one of its targets. --override gives an admin\'s reason to pass promotion.',
    positionals: { min: 0, max: 3 },
    options: {
      env: { type: 'string' },
      label: { type: 'string', multiple: true },
      target: { type: 'string', multiple: true },
      parallel: { type: 'string' },
      canary: { type: 'string' },
      'max-failures': { type: 'string' },
      'on-error': { type: 'string' },
      verb: { type: 'string' },
      plan: { type: 'string' },
      override: { type: 'string' },
      wait: { type: 'boolean' },
    },
    local: false,
  },
  revision: {
    synopsis: 'revision -m <message> [--head <rev>] [--breaking] [--backfill <table>] [--dir <dir>] [--autogenerate [--to-sql <file>] [--snapshots <dir>]]',
    summary: 'write a new migration module on top of the head: empty, or generated from the database',
    details: 'The new module gets a fresh 12-hex id and revises the head; with several heads, --head names the one to build on. --breaking marks it the contract phase of expand/contract: once applied, replicas of older releases turn unready. --backfill <table> writes a batched backfill step of that table to fill in (its SET and its WHERE, the rows still to do): it runs in keyset batches, each its own short transaction with a checkpoint. --dir defaults to src/migrations.\n' +
      '--autogenerate writes the SQL that turns the head\'s schema (its snapshot in --snapshots, default schema-snapshots) into the schema of the ' +
      'database (found as every command finds it), which must be at that head, or of the SQL file --to-sql names (run in a scratch database on the same server). ' +
      'Indexes and constraints on existing tables are built online, in a second, non-transactional revision when needed. ' +
      'Both directions are run on a scratch database first; nothing is written unless up gives the desired schema and down the head\'s. ' +
      'A drop is marked breaking; what it cannot write (views, triggers, sequences...) is listed, and the exit code is then 1.',
    positionals: { min: 0, max: 0 },
    options: { ...scaffold, head: { type: 'string' }, breaking: { type: 'boolean' }, backfill: { type: 'string' }, autogenerate: { type: 'boolean' }, 'to-sql': { type: 'string' }, snapshots: { type: 'string' } },
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
    readonly values: Record<string, string | boolean | string[] | undefined>
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
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>
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
