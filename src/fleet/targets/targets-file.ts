import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { TargetsFileError } from './errors.js'

/** A target declared in the file, its `${VAR}`s replaced. */
export interface DeclaredTarget {
  readonly name: string
  readonly environment: string
  readonly labels: Readonly<Record<string, string>>
  /** Tenant-per-schema: the revisions, `alembic_version` and the bookkeeping live in it; null: the database's default (public). */
  readonly schema: string | null
  /** The real URL with its credentials: never in an answer, a log line or a metric. */
  readonly url: string
  /** A direct connection for migrations, as MIGRATION_DATABASE_URL; null: `url`. */
  readonly migrationUrl: string | null
}

/** A group of targets read from a catalog database by a query. */
export interface DiscoveryGroup {
  readonly name: string
  readonly environment: string
  readonly labels: Readonly<Record<string, string>>
  /** The URL of a row that names none; null: every row must name its own. */
  readonly url: string | null
  readonly migrationUrl: string | null
  readonly discover: { readonly url: string, readonly query: string, readonly refreshMs: number }
}

export interface TargetsFile {
  /** Promotion order. */
  readonly environments: readonly string[]
  readonly self: { readonly name: string, readonly environment: string }
  readonly targets: readonly DeclaredTarget[]
  readonly groups: readonly DiscoveryGroup[]
}

export const defaultRefreshMs = 60_000
const minimumRefreshMs = 1_000

/** Target, group and environment names: what a URL path, a label and a log line carry safely. */
export const targetNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
/** An unquoted PostgreSQL identifier: a schema name is quoted when used, and must round-trip. */
export const schemaNamePattern = /^[a-z_][a-z0-9_$]{0,62}$/

export function readTargetsFile (path: string, env: NodeJS.ProcessEnv): TargetsFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new TargetsFileError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  return parseTargetsFile(text, env)
}

/** YAML or JSON (JSON is YAML): validated whole, the first bad entry named in one line. */
export function parseTargetsFile (text: string, env: NodeJS.ProcessEnv): TargetsFile {
  let document: unknown
  try {
    document = parseYaml(text)
  } catch (error) {
    throw new TargetsFileError('(file)', `is not YAML or JSON: ${(error as Error).message.split('\n')[0] ?? ''}`)
  }
  const root = objectAt(substituted(document, '', env), '(file)', ['environments', 'self', 'targets', 'groups'])
  const environments = environmentsOf(root.environments)
  const firstEnvironment = environments[0] as string
  const selfEntry = root.self === undefined ? {} : objectAt(root.self, 'self', ['name', 'environment'])
  const self = {
    name: selfEntry.name === undefined ? 'self' : nameAt(selfEntry.name, 'self.name'),
    environment: selfEntry.environment === undefined ? firstEnvironment : environmentAt(selfEntry.environment, 'self.environment', environments),
  }
  const targets = listAt(root.targets, 'targets').map((entry, index) => targetOf(entry, `targets[${index}]`, environments))
  const groups = listAt(root.groups, 'groups').map((entry, index) => groupOf(entry, `groups[${index}]`, environments))
  const seen = new Map<string, string>([[self.name, 'self.name']])
  targets.forEach((target, index) => {
    const before = seen.get(target.name)
    if (before !== undefined) throw new TargetsFileError(`targets[${index}].name`, `"${target.name}" is already the name of ${before}`)
    seen.set(target.name, `targets[${index}]`)
  })
  const groupNames = new Set<string>()
  groups.forEach((group, index) => {
    if (groupNames.has(group.name)) throw new TargetsFileError(`groups[${index}].name`, `"${group.name}" names two groups`)
    groupNames.add(group.name)
  })
  return { environments, self, targets, groups }
}

/** `${VAR}` in every string, from the environment; an unset variable is an error, never an empty URL. */
function substituted (value: unknown, path: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name]
      if (found === undefined || found === '') throw new TargetsFileError(path, `\${${name}} is not set in the environment`)
      return found
    })
  }
  if (Array.isArray(value)) return value.map((item, index) => substituted(item, `${path}[${index}]`, env))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituted(item, path === '' ? key : `${path}.${key}`, env)]))
  }
  return value
}

function environmentsOf (value: unknown): string[] {
  if (value === undefined) return ['default']
  if (!Array.isArray(value) || value.length === 0) throw new TargetsFileError('environments', 'must be a non-empty list of names, in promotion order')
  const names = value.map((item, index) => nameAt(item, `environments[${index}]`))
  const twice = names.find((name, index) => names.indexOf(name) !== index)
  if (twice !== undefined) throw new TargetsFileError('environments', `"${twice}" is listed twice`)
  return names
}

function targetOf (value: unknown, path: string, environments: readonly string[]): DeclaredTarget {
  const entry = objectAt(value, path, ['name', 'environment', 'url', 'migrationUrl', 'schema', 'labels'])
  return {
    name: nameAt(entry.name, `${path}.name`),
    environment: environmentAt(entry.environment, `${path}.environment`, environments),
    url: urlAt(entry.url, `${path}.url`),
    migrationUrl: entry.migrationUrl === undefined ? null : urlAt(entry.migrationUrl, `${path}.migrationUrl`),
    schema: entry.schema === undefined || entry.schema === null ? null : schemaAt(entry.schema, `${path}.schema`),
    labels: labelsAt(entry.labels, `${path}.labels`),
  }
}

function groupOf (value: unknown, path: string, environments: readonly string[]): DiscoveryGroup {
  const entry = objectAt(value, path, ['name', 'environment', 'url', 'migrationUrl', 'labels', 'discover'])
  const discover = objectAt(entry.discover, `${path}.discover`, ['url', 'query', 'refreshMs'])
  if (typeof discover.query !== 'string' || discover.query.trim() === '') throw new TargetsFileError(`${path}.discover.query`, 'must be a SQL query returning name, and optionally url, schema, labels')
  const refreshMs = discover.refreshMs ?? defaultRefreshMs
  if (typeof refreshMs !== 'number' || !Number.isInteger(refreshMs) || refreshMs < minimumRefreshMs) {
    throw new TargetsFileError(`${path}.discover.refreshMs`, `must be an integer of at least ${minimumRefreshMs}`)
  }
  return {
    name: nameAt(entry.name, `${path}.name`),
    environment: environmentAt(entry.environment, `${path}.environment`, environments),
    url: entry.url === undefined ? null : urlAt(entry.url, `${path}.url`),
    migrationUrl: entry.migrationUrl === undefined ? null : urlAt(entry.migrationUrl, `${path}.migrationUrl`),
    labels: labelsAt(entry.labels, `${path}.labels`),
    discover: { url: urlAt(discover.url, `${path}.discover.url`), query: discover.query, refreshMs },
  }
}

function objectAt (value: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TargetsFileError(path, 'must be a mapping')
  const unknownKey = Object.keys(value).find((key) => !keys.includes(key))
  if (unknownKey !== undefined) throw new TargetsFileError(path, `"${unknownKey}" is not one of ${keys.join(', ')}`)
  return value as Record<string, unknown>
}

function listAt (value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new TargetsFileError(path, 'must be a list')
  return value
}

export function nameAt (value: unknown, path: string): string {
  if (typeof value !== 'string' || !targetNamePattern.test(value)) {
    throw new TargetsFileError(path, `${JSON.stringify(value) ?? 'nothing'} is not a name (letters, digits, _ . -; at most 63)`)
  }
  return value
}

function environmentAt (value: unknown, path: string, environments: readonly string[]): string {
  if (typeof value !== 'string' || !environments.includes(value)) {
    throw new TargetsFileError(path, `${JSON.stringify(value) ?? 'nothing'} is not one of ${environments.join(', ')}`)
  }
  return value
}

export function schemaAt (value: unknown, path: string): string {
  if (typeof value !== 'string' || !schemaNamePattern.test(value)) {
    throw new TargetsFileError(path, `${JSON.stringify(value) ?? 'nothing'} is not a schema name (lower-case letters, digits, _ $; at most 63)`)
  }
  return value
}

/** The value itself is never shown: it may hold a password. */
export function urlAt (value: unknown, path: string): string {
  if (typeof value !== 'string') throw new TargetsFileError(path, 'must be a postgres:// URL')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TargetsFileError(path, 'is not a URL (its value is not shown: it may hold a password)')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new TargetsFileError(path, `must be a postgres:// URL, not ${url.protocol}//`)
  return value
}

export function labelsAt (value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new TargetsFileError(path, 'must be a mapping of names to strings')
  const labels: Record<string, string> = {}
  for (const [key, item] of Object.entries(value)) {
    if (!targetNamePattern.test(key)) throw new TargetsFileError(`${path}.${key}`, 'is not a label name (letters, digits, _ . -)')
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') throw new TargetsFileError(`${path}.${key}`, 'must be a string')
    labels[key] = String(item)
  }
  return labels
}
