import { setTimeout as sleep } from 'node:timers/promises'
import { CliFailure, type CliProblem, type DriftReport, type Fleet, type MigrationResult, type SchemaApi, type SchemaStatus, type ProgressReporter, type Step } from './api.js'

/** `GET /migrations/operations/{id}`: what a submitted run has done so far. */
interface Operation {
  readonly id: string
  readonly status: 'queued' | 'running' | 'paused' | 'succeeded' | 'failed'
  readonly dryRun: boolean
  readonly from: string[] | null
  readonly to: string[] | null
  /** Without their SQL while polling; the finished operation is read once with it. */
  readonly steps: Array<Omit<Step, 'sql'> & { readonly inProgress?: boolean, readonly rowsTotal?: number, readonly rowsPerSecond?: number, readonly etaMs?: number | null }>
  readonly stepsTotal: number | null
  readonly error: { kind?: string, message?: string, revision?: string, code?: string | null } | null
}

const pollMs = 200

export interface RemoteOptions {
  readonly baseUrl: string
  readonly token: string | null
  readonly progress: ProgressReporter
}

/** A running service through its HTTP API: the same verbs, the service's own lock and audit log. */
export function openRemote (options: RemoteOptions): SchemaApi {
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' }
    if (options.token !== null) headers.authorization = `Bearer ${options.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const url = new URL(path, options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`)
    let response: Response
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch (error) {
      throw new CliFailure({ type: 'service-unreachable', detail: `cannot reach ${url.origin}: ${causeOf(error)}` })
    }
    const text = await response.text()
    if (!response.ok) throw new CliFailure(problemFrom(response, text))
    return JSON.parse(text) as T
  }
  const parentsOf = async () => {
    const { revisions } = await call<{ revisions: Array<{ revision: string, downRevisions: string[] }> }>('GET', 'migrations/history')
    return new Map(revisions.map((revision) => [revision.revision, revision.downRevisions]))
  }
  /**
   * Submitted with `async`, then followed through the audit log, so a long run reports each step
   * as it completes. Nothing to do is answered at once, without the queue.
   */
  const migrate = async (path: string, body: { target?: string, dryRun: boolean, planId?: string }): Promise<MigrationResult> => {
    if (path.endsWith('upgrade') && !body.dryRun && body.planId === undefined && (body.target === 'head' || body.target === 'heads')) {
      const status = await call<SchemaStatus>('GET', 'migrations/current')
      // At head, or behind a newer release: nothing to follow.
      if (status.upToDate || status.ahead.length > 0) return call<MigrationResult>('POST', path, body)
    }
    const parents = await parentsOf()
    let operation = await call<Operation>('POST', path, { ...body, async: true })
    let reported = 0
    for (;;) {
      // A backfill under way is shown as a step in progress: its rows, not a step done.
      const recorded = operation.steps.filter((step) => step.inProgress !== true)
      for (const step of operation.steps.filter((step) => step.inProgress === true)) {
        options.progress.backfillProgress({ rowsDone: step.rowsDone ?? 0, rowsTotal: step.rowsTotal ?? 0, rowsPerSecond: step.rowsPerSecond ?? 0, etaMs: step.etaMs ?? null })
      }
      for (const step of recorded.slice(reported)) {
        reported++
        options.progress.stepDone({ ...step, downRevisions: parents.get(step.revision) ?? [], index: reported, of: operation.stepsTotal }, step.durationMs)
      }
      options.progress.operationRead(reported, operation.stepsTotal)
      if (operation.status === 'succeeded') {
        const { steps } = await call<{ steps: Step[] }>('GET', `migrations/operations/${operation.id}?include=sql`)
        return { from: operation.from ?? [], to: operation.to ?? [], dryRun: operation.dryRun, steps, ahead: [] }
      }
      if (operation.status === 'failed') {
        const { kind = 'migration-failed', message = 'the operation failed', ...fields } = operation.error ?? {}
        throw new CliFailure({ type: kind, detail: message, ...fields, operation: operation.id })
      }
      await sleep(pollMs)
      operation = await call<Operation>('GET', `migrations/operations/${operation.id}`)
    }
  }
  return {
    current: () => call('GET', 'migrations/current'),
    heads: () => call('GET', 'migrations/heads'),
    history: () => call('GET', 'migrations/history'),
    revision: (ref) => call('GET', `migrations/revisions/${encodeURIComponent(ref)}`),
    upgrade: (body) => migrate('migrations/upgrade', body),
    downgrade: (body) => migrate('migrations/downgrade', body),
    stamp: (body) => call('POST', 'migrations/stamp', body),
    plan: (body) => call('POST', 'migrations/plan', body),
    approve: (planId, body) => call('POST', `migrations/plans/${encodeURIComponent(planId)}/approve`, body),
    backups: async () => { throw directOnly('backups') },
    restoreBackup: async () => { throw directOnly('restore-backup') },
    archives: () => call('GET', 'migrations/archives'),
    restoreArchive: (id, body) => call('POST', `migrations/archives/${id}/restore`, body),
    // The HTTP API has no read-only verb that checks applied checksums.
    integrity: async () => null,
    drift: async () => {
      try {
        return { report: await call<DriftReport>('GET', 'schema/drift') }
      } catch (error) {
        const type = error instanceof CliFailure ? error.problem.type : null
        if (type === 'not-found' || type === 'schema-snapshot-missing' || type === 'drift-needs-one-revision') return { unavailable: (error as Error).message }
        throw error
      }
    },
    targets: () => call('GET', 'targets'),
    fleet: async (filter) => {
      const query = new URLSearchParams({ limit: '1000' })
      if (filter.environment !== undefined) query.set('environment', filter.environment)
      for (const label of filter.labels) query.append('label', label)
      const first = await call<Fleet>('GET', `fleet?${query.toString()}`)
      const targets = [...first.targets]
      for (let cursor = first.nextCursor; cursor !== null;) {
        query.set('cursor', cursor)
        const page = await call<Fleet>('GET', `fleet?${query.toString()}`)
        targets.push(...page.targets)
        cursor = page.nextCursor
      }
      return { summary: first.summary, targets, nextCursor: null }
    },
    createRollout: (body) => call('POST', 'rollouts', body),
    rollout: (id) => call('GET', `rollouts/${encodeURIComponent(id)}`),
    rolloutAction: (id, action) => call('POST', `rollouts/${encodeURIComponent(id)}/${action}`),
    skipRolloutTarget: (id, target) => call('POST', `rollouts/${encodeURIComponent(id)}/targets/${encodeURIComponent(target)}/skip`),
    close: async () => {},
  }
}

function problemFrom (response: Response, text: string): CliProblem {
  try {
    const body = JSON.parse(text) as Partial<CliProblem>
    if (typeof body.type === 'string' && typeof body.detail === 'string') return body as CliProblem
  } catch {
    // Not JSON: a proxy's page, say. The status line is what there is to tell.
  }
  return { type: 'unexpected-response', status: response.status, detail: `${response.url} answered ${response.status} ${response.statusText}` }
}

function causeOf (error: unknown): string {
  const cause = (error as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}

/** Backups are files where the service took them: read and restored beside them, not through HTTP. */
function directOnly (verb: string): CliFailure {
  return new CliFailure({ type: 'direct-only', detail: `${verb} reads BACKUP_DIR on the machine that took the backups: run it there without --url (DATABASE_URL or MIGRATION_DATABASE_URL set)` })
}
