import type { Knex } from 'knex'
import { schemaInSync } from '../../catalog/drift.js'
import { sqlStateOf } from '../../database/pg-errors.js'
import { createMigrator, type RevisionGraph } from '../../migrator/index.js'
import { openTargetKnex } from '../targets/connections.js'
import type { TargetRegistry } from '../targets/registry.js'
import type { FleetTarget } from '../targets/target.js'
import { stateOf, type FleetEntry, type FleetState } from './entry.js'
import { fleetPage, type FleetPage, type FleetQuery } from './query.js'
import { ReadGate } from './read-gate.js'

export interface FleetLogger {
  debug (object: object, message: string): void
  warn (object: object, message: string): void
}

export interface FleetCacheOptions {
  readonly registry: TargetRegistry
  readonly graph: RevisionGraph
  readonly logger: FleetLogger
  /** Targets read at once. */
  readonly concurrency?: number
  /** How often every target is read again. */
  readonly refreshMs: number
  /**
   * Read every `refreshMs` in the background (a fleet), or only when asked, a read older than
   * `refreshMs` read again first (the service's own database alone: nothing runs unasked).
   */
  readonly background: boolean
  readonly connectTimeoutMs?: number
  /** The committed schema snapshots each target's live schema is compared with; the build's own by default. */
  readonly snapshotsDir?: string
}

export const defaultFleetConcurrency = 8

/**
 * Targets read at once while rollout jobs run on this replica, for reads asked for (a target a job
 * has just finished, a page with targets never read): the small constant beside their `maxParallel`.
 */
export const fleetConcurrencyDuringRollouts = 2

/** How long the fleet keeps to that (and its sweep waits) after a job ends, for the next one to start. */
const migrationLingerMs = 2_000

/** A target's read gives up past this, behind a lock or on a slow server: it is read again at the next sweep. */
const fleetReadTimeoutMs = 10_000

/** A read cancelled past that timeout (statement or lock): the target answers, it is only busy. */
const busy = ['57014', '55P03']

/**
 * Every target's status, read in the background a few at a time, each through a connection of
 * its own held only for the read; `GET /fleet` answers from memory. A target that cannot be read
 * is `reachable: false` with what was last known of it, and never holds up the others.
 */
export class FleetCache {
  private readonly options: FleetCacheOptions
  private readonly entries = new Map<string, FleetEntry>()
  /** The entries in name order, rebuilt only when a target comes or goes. */
  private sorted: FleetEntry[] | null = null
  private readonly checking = new Map<string, Promise<FleetEntry>>()
  private sweep: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private migrating = 0
  /** Sweeps waiting for the jobs on this replica to end. */
  private readonly sweepsWaiting: Array<() => void> = []
  private readonly gate = new ReadGate(() => this.migrating > 0 ? fleetConcurrencyDuringRollouts : this.options.concurrency ?? defaultFleetConcurrency)

  constructor (options: FleetCacheOptions) {
    this.options = options
    this.sync()
  }

  /** Reads every target now, then again every `refreshMs`; without `background`, nothing. */
  start (): void {
    if (!this.options.background) return
    this.refresh().catch(() => undefined)
    this.timer = setInterval(() => { this.refresh().catch(() => undefined) }, this.options.refreshMs)
    this.timer.unref()
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.resumeSweeps()
    await Promise.allSettled([this.sweep, ...this.checking.values()])
  }

  /**
   * A rollout's job runs on this replica until the answer is called. Meanwhile the background
   * sweep slows to a read per worker and refresh interval: reading every target in turn is a connection and a catalog read each, which at a
   * few hundred targets kept more than a core of the database servers busy beside the migrations.
   * The targets the jobs finish are read at once all the same (`changed`), at most
   * `fleetConcurrencyDuringRollouts` at a time, so a rollout's connections stay its `maxParallel`
   * plus that. Both hold a moment past the job's end: a rollout's next job starts within
   * milliseconds, and a sweep let loose in that gap would open its eight connections beside it.
   */
  whileMigrating (): () => void {
    this.migrating++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      setTimeout(() => {
        this.migrating--
        this.gate.wake()
        if (this.migrating === 0) this.resumeSweeps()
      }, migrationLingerMs).unref()
    }
  }

  /** Takes in targets that came and drops those gone; the new ones are read at once. */
  sync (): void {
    const targets = this.options.registry.list()
    const names = new Set(targets.map((target) => target.name))
    for (const name of this.entries.keys()) if (!names.has(name)) this.entries.delete(name)
    const added = targets.filter((target) => {
      const known = this.entries.get(target.name)
      if (known !== undefined && known.environment === target.environment && sameLabels(known.labels, target.labels)) return false
      this.entries.set(target.name, known === undefined ? uncheckedEntry(target) : { ...known, environment: target.environment, labels: target.labels })
      return known === undefined
    })
    this.sorted = null
    if (this.timer !== null) for (const target of added) this.invalidate(target.name).catch(() => undefined)
  }

  /** Every target read again, `concurrency` at a time; one sweep at a time. */
  async refresh (): Promise<void> {
    this.sweep ??= this.runSweep().finally(() => { this.sweep = null })
    return this.sweep
  }

  /** Reads one target again now (after an operation on it, say); undefined when there is no such target. */
  async invalidate (name: string): Promise<FleetEntry | undefined> {
    const target = this.options.registry.get(name)
    if (target === undefined) return undefined
    // A read begun before the change may have missed it: this one starts after it.
    await this.checking.get(name)?.catch(() => undefined)
    return this.check(target)
  }

  /**
   * A target moved (a migration here or on another replica): with a fleet, read again now;
   * otherwise forgotten, so the next page reads it, and nothing runs unasked.
   */
  async changed (name: string): Promise<void> {
    if (this.options.background) {
      await this.invalidate(name)
      return
    }
    const entry = this.entries.get(name)
    if (entry === undefined || entry.checkedAt === null) return
    const forgotten = { ...entry, checkedAt: null }
    this.entries.set(name, forgotten)
    if (this.sorted !== null) this.sorted[this.sorted.indexOf(entry)] = forgotten
  }

  /** The page asked for; targets never read yet (or, without `background`, read too long ago) are read first. */
  async page (query: FleetQuery): Promise<FleetPage> {
    const staleBefore = this.options.background ? null : new Date(Date.now() - this.options.refreshMs).toISOString()
    const unchecked = [...this.entries.values()].filter((entry) => entry.checkedAt === null || (staleBefore !== null && entry.checkedAt < staleBefore))
    if (unchecked.length > 0) await this.checkAll(unchecked.map((entry) => this.options.registry.get(entry.name)).filter((target) => target !== undefined), { sweep: false })
    return fleetPage(this.inOrder(), query)
  }

  /** How many targets are in each state, for `aip_schema_fleet_targets{state}`. */
  counts (): Record<FleetState, number> {
    const counts: Record<FleetState, number> = { 'up-to-date': 0, behind: 0, ahead: 0, unreachable: 0, unchecked: 0 }
    for (const entry of this.entries.values()) counts[stateOf(entry)]++
    return counts
  }

  private inOrder (): FleetEntry[] {
    this.sorted ??= [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return this.sorted
  }

  private async runSweep (): Promise<void> {
    const started = performance.now()
    await this.checkAll(this.options.registry.list(), { sweep: true })
    const counts = this.counts()
    // Every sweep, so debug: what an operator watches is a target turning unreachable, said at warn.
    this.options.logger.debug({ targets: this.entries.size, ...counts, ms: Math.round(performance.now() - started) }, 'fleet status read')
  }

  /** A sweep's reads wait while jobs run here; a read asked for does not. */
  private async checkAll (targets: readonly FleetTarget[], options: { readonly sweep: boolean }): Promise<void> {
    const queue = [...targets]
    const worker = async (): Promise<void> => {
      for (;;) {
        if (options.sweep) await this.sweepMayRead()
        const target = queue.shift()
        if (target === undefined || this.closed) return
        await this.check(target)
      }
    }
    // As many workers as reads may ever run at once; the gate holds them to the limit of the moment.
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? defaultFleetConcurrency, queue.length) }, worker))
  }

  /**
   * Until the jobs here end, or one refresh interval at most: a job may run for hours (a large
   * backfill), and meanwhile each of the sweep's workers still reads a target an interval, so a
   * target turning unreachable is seen in time, at a load that does not compete with the jobs.
   */
  private async sweepMayRead (): Promise<void> {
    if (this.migrating === 0 || this.closed) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.sweepsWaiting.push(resolve)
      timer = setTimeout(resolve, this.options.refreshMs)
      timer.unref()
    })
    clearTimeout(timer)
  }

  private resumeSweeps (): void {
    for (const resolve of this.sweepsWaiting.splice(0)) resolve()
  }

  /** One read per target at a time: a second caller shares the read under way. */
  private async check (target: FleetTarget): Promise<FleetEntry> {
    const running = this.checking.get(target.name)
    if (running !== undefined) return running
    const read = this.gate.run(async () => this.read(target)).finally(() => this.checking.delete(target.name))
    this.checking.set(target.name, read)
    return read
  }

  private async read (target: FleetTarget): Promise<FleetEntry> {
    const knex = openTargetKnex(target, { poolMax: 1, connectTimeoutMs: this.options.connectTimeoutMs, readTimeoutMs: fleetReadTimeoutMs })
    let entry: FleetEntry
    try {
      const migrator = createMigrator({ knex, graph: this.options.graph })
      const status = await migrator.status()
      const [last] = await migrator.operations(1)
      entry = {
        ...identityOf(target),
        reachable: true,
        current: status.current,
        upToDate: status.upToDate,
        pending: status.pending.length,
        ahead: status.ahead,
        breaking: status.breaking,
        interrupted: status.interrupted,
        inSync: await this.inSync(knex, target),
        lastOperation: last === undefined ? null : { id: last.id, kind: last.kind, status: last.status, finishedAt: last.finishedAt },
        checkedAt: new Date().toISOString(),
      }
    } catch (error) {
      const known = this.entries.get(target.name) ?? uncheckedEntry(target)
      if (busy.includes(sqlStateOf(error) ?? '') && known.checkedAt !== null) {
        // It answers, but a migration holds what the read needs: what was known stays, read at the next sweep.
        this.options.logger.debug({ target: target.name, error: describe(error) }, 'fleet: target busy')
        return known
      }
      if (known.reachable || known.checkedAt === null) {
        this.options.logger.warn({ target: target.name, error: describe(error) }, 'fleet: target unreachable')
      }
      entry = { ...known, ...identityOf(target), reachable: false, checkedAt: new Date().toISOString() }
    } finally {
      await knex.destroy()
    }
    // A target dropped from the registry while it was read stays dropped.
    if (this.options.registry.get(target.name) !== undefined) {
      const before = this.entries.get(target.name)
      this.entries.set(target.name, entry)
      if (before === undefined) this.sorted = null
      else if (this.sorted !== null) this.sorted[this.sorted.indexOf(before)] = entry
    }
    return entry
  }

  /**
   * The live schema (the target's schema, for a schema target) against the snapshot of its
   * revision, as `GET /schema/drift` compares them; null when that cannot be told: no snapshot
   * of the revision in this build, several heads, or a newer release's revisions applied.
   */
  private async inSync (knex: Knex, target: FleetTarget): Promise<boolean | null> {
    try {
      return await schemaInSync(knex, this.options.graph, { snapshotsDir: this.options.snapshotsDir })
    } catch (error) {
      this.options.logger.debug({ target: target.name, error: describe(error) }, 'fleet: drift not told')
      return null
    }
  }
}

function identityOf (target: FleetTarget): Pick<FleetEntry, 'name' | 'environment' | 'labels'> {
  return { name: target.name, environment: target.environment, labels: target.labels }
}

function uncheckedEntry (target: FleetTarget): FleetEntry {
  return {
    ...identityOf(target),
    reachable: false,
    current: [],
    upToDate: false,
    pending: 0,
    ahead: [],
    breaking: [],
    interrupted: null,
    inSync: null,
    lastOperation: null,
    checkedAt: null,
  }
}

function sameLabels (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The database's words or the connection's code, never the URL. */
function describe (error: unknown): string {
  const { code, message } = error as { code?: string, message?: string }
  return code !== undefined && message !== undefined ? `${code}: ${message}` : message ?? String(error)
}
