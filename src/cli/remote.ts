import { CliFailure, type CliProblem, type DriftReport, type MigrationResult, type SchemaApi, type StepListener } from './api.js'

export interface RemoteOptions {
  readonly baseUrl: string
  readonly token: string | null
  readonly onStep: StepListener
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
  // The answer comes once the run is over: its steps are reported then, in order.
  const migrate = async (path: string, body: object): Promise<MigrationResult> => {
    const result = await call<MigrationResult>('POST', path, body)
    if (result.steps.length > 0) {
      const { revisions } = await call<{ revisions: Array<{ revision: string, downRevisions: string[] }> }>('GET', 'migrations/history')
      const parents = new Map(revisions.map((revision) => [revision.revision, revision.downRevisions]))
      for (const [index, step] of result.steps.entries()) {
        options.onStep({ ...step, downRevisions: parents.get(step.revision) ?? [], index: index + 1, of: result.steps.length })
      }
    }
    return result
  }
  return {
    current: () => call('GET', 'migrations/current'),
    heads: () => call('GET', 'migrations/heads'),
    history: () => call('GET', 'migrations/history'),
    revision: (ref) => call('GET', `migrations/revisions/${encodeURIComponent(ref)}`),
    upgrade: (body) => migrate('migrations/upgrade', body),
    downgrade: (body) => migrate('migrations/downgrade', body),
    stamp: (body) => call('POST', 'migrations/stamp', body),
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
