import type { SchemaStatus } from '../migrator/index.js'

/** Where the service's data is: its host and database name, never its user or password. */
export type DatabaseWhere =
  | { readonly embedded: true, readonly dataDir: string }
  | { readonly embedded: false, readonly host: string, readonly port: number, readonly database: string }

export type SchemaWhere =
  | { readonly state: 'at-head', readonly heads: string[] }
  | { readonly state: 'pending', readonly current: string[], readonly heads: string[], readonly pending: number }
  | { readonly state: 'ahead', readonly current: string[], readonly ahead: string[] }
  | { readonly state: 'interrupted', readonly revision: string, readonly direction: 'up' | 'down', readonly operation: string }
  | { readonly state: 'unreachable' }

/** What a user needs once the service listens; logged as one object, or one line per field on a terminal. */
export interface StartBanner {
  readonly url: string
  readonly docs: string
  /** Null until the service has a status page (`GET /`). */
  readonly statusPage: string | null
  readonly database: DatabaseWhere
  /** Set when migrations use a direct connection apart from the (pooled) data one. */
  readonly migrationDatabase: DatabaseWhere | null
  readonly schema: SchemaWhere
  readonly auth: { readonly tokenRequired: boolean, readonly scopes: string[] }
  readonly stop: string
}

export const bannerMessage = 'aip-schema is serving'

/** The banner's fields as the lines a terminal shows, label first. */
export function bannerLines (banner: StartBanner): string[] {
  const lines: Array<[string, string]> = [
    ['url', banner.url],
    ['docs', banner.docs],
  ]
  if (banner.statusPage !== null) lines.push(['status page', banner.statusPage])
  lines.push(['database', describeDatabase(banner.database)])
  if (banner.migrationDatabase !== null) lines.push(['migrations via', describeDatabase(banner.migrationDatabase)])
  lines.push(['schema', describeSchema(banner.schema)])
  lines.push(['token', banner.auth.tokenRequired ? `needed (Authorization: Bearer <token>); scopes configured: ${banner.auth.scopes.join(', ')}` : 'not needed'])
  lines.push(['stop', banner.stop])
  const width = Math.max(...lines.map(([label]) => label.length))
  return lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`)
}

/** A connection string's host, port and database; its user and password are left out. */
export function databaseOf (connectionString: string): DatabaseWhere {
  const url = new URL(connectionString)
  const host = url.hostname !== '' ? url.hostname : url.searchParams.get('host') ?? 'localhost'
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
  return { embedded: false, host, port: url.port === '' ? 5432 : Number(url.port), database: database === '' ? '(the user\'s default)' : database }
}

export function schemaOf (status: SchemaStatus): SchemaWhere {
  if (status.interrupted !== null) {
    const { revision, direction, operation } = status.interrupted
    return { state: 'interrupted', revision, direction, operation }
  }
  if (status.ahead.length > 0) return { state: 'ahead', current: status.current, ahead: status.ahead }
  if (status.pending.length > 0) return { state: 'pending', current: status.current, heads: status.heads, pending: status.pending.length }
  return { state: 'at-head', heads: status.heads }
}

function describeDatabase (database: DatabaseWhere): string {
  return database.embedded ? `embedded PostgreSQL in ${database.dataDir}` : `${database.host}:${database.port}/${database.database}`
}

function describeSchema (schema: SchemaWhere): string {
  switch (schema.state) {
    case 'at-head': return `at head ${schema.heads.join(', ')}`
    case 'pending': return `${schema.pending} pending: at ${revisions(schema.current)}, head ${schema.heads.join(', ')} (POST /migrations/upgrade or aip-schema upgrade)`
    case 'ahead': return `ahead of this release: at ${revisions(schema.current)}, of which ${schema.ahead.join(', ')} this release does not have`
    case 'interrupted': return `interrupted: ${schema.revision} (${schema.direction}) was cut off in operation ${schema.operation}`
    case 'unreachable': return 'the database cannot be reached yet: not ready, retrying'
  }
}

function revisions (heads: string[]): string {
  return heads.length === 0 ? 'base' : heads.join(', ')
}
