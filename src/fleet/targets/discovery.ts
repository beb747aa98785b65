import knexFactory, { type Knex } from 'knex'
import { quietKnexLog } from './connections.js'
import type { FleetTarget } from './target.js'
import { labelsAt, nameAt, schemaAt, urlAt, type DiscoveryGroup } from './targets-file.js'

export interface DiscoveryLogger {
  warn (object: object, message: string): void
}

/** What the last read of a group's catalog gave; `error` set while the catalog cannot be read. */
export interface DiscoveryState {
  readonly group: string
  readonly targets: readonly FleetTarget[]
  /** When the catalog last answered; null: never yet. */
  readonly refreshedAt: string | null
  /** Why the last read failed (no URL in it); the targets are then the last list read. */
  readonly error: string | null
}

const catalogStatementTimeoutMs = 10_000

/** One group's catalog: its own small pool, read on demand; a failed read keeps the last list. */
export class CatalogReader {
  private readonly knex: Knex
  private current: DiscoveryState
  readonly group: DiscoveryGroup
  private readonly logger: DiscoveryLogger

  constructor (group: DiscoveryGroup, logger: DiscoveryLogger) {
    this.group = group
    this.logger = logger
    this.knex = knexFactory({
      log: quietKnexLog,
      client: 'pg',
      connection: { connectionString: group.discover.url, connectionTimeoutMillis: 5_000 },
      pool: { min: 0, max: 1, idleTimeoutMillis: 10_000 },
      acquireConnectionTimeout: 5_000,
    })
    this.current = { group: group.name, targets: [], refreshedAt: null, error: null }
  }

  get state (): DiscoveryState {
    return this.current
  }

  async refresh (): Promise<DiscoveryState> {
    try {
      const rows = await this.knex.transaction(async (trx) => {
        await trx.raw('SELECT set_config(\'statement_timeout\', ?, true)', [String(catalogStatementTimeoutMs)])
        return (await trx.raw<{ rows: unknown[] }>(this.group.discover.query)).rows
      })
      this.current = { group: this.group.name, targets: this.targetsOf(rows), refreshedAt: new Date().toISOString(), error: null }
    } catch (error) {
      const reason = describe(error)
      this.logger.warn({ group: this.group.name, error: reason }, 'target discovery failed; the last list read is kept')
      this.current = { ...this.current, error: reason }
    }
    return this.current
  }

  async close (): Promise<void> {
    await this.knex.destroy()
  }

  private targetsOf (rows: readonly unknown[]): FleetTarget[] {
    const found: FleetTarget[] = []
    const names = new Set<string>()
    rows.forEach((row, index) => {
      try {
        const target = this.targetOf(row, index)
        if (names.has(target.name)) throw new Error(`"${target.name}" is returned twice`)
        names.add(target.name)
        found.push(target)
      } catch (error) {
        this.logger.warn({ group: this.group.name, row: index, error: (error as Error).message }, 'a discovered row is not a target; skipped')
      }
    })
    return found
  }

  private targetOf (row: unknown, index: number): FleetTarget {
    const path = `groups.${this.group.name} row ${index}`
    const fields = (row ?? {}) as Record<string, unknown>
    const url = fields.url === undefined || fields.url === null ? this.group.url : urlAt(fields.url, `${path}.url`)
    if (url === null) throw new Error(`${path}: names no url and the group has none`)
    return {
      name: nameAt(fields.name, `${path}.name`),
      environment: this.group.environment,
      labels: { ...this.group.labels, ...labelsAt(fields.labels, `${path}.labels`) },
      schema: fields.schema === undefined || fields.schema === null ? null : schemaAt(fields.schema, `${path}.schema`),
      url,
      migrationUrl: fields.url === undefined || fields.url === null ? this.group.migrationUrl : null,
      source: 'discovered',
    }
  }
}

/** A database error's own words, or the connection's code: never the URL. */
function describe (error: unknown): string {
  const { code, message } = error as { code?: string, message?: string }
  return code !== undefined && message !== undefined ? `${code}: ${message}` : message ?? String(error)
}
