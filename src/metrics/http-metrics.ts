import type { FastifyInstance, onResponseHookHandler } from 'fastify'
import type { Metric, MetricValueWithName, Registry } from 'prom-client'

const name = 'http_request_duration_seconds'
const help = 'request duration in seconds'
/** prom-client's default buckets, which fastify-metrics used. */
const bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const

type Labels = Readonly<{ method: string, route: string, status_code: string }>

/** One label set's histogram: a count per bucket (the last is above every bound), sum and count. */
class Series {
  readonly labels: Labels
  readonly perBucket = new Float64Array(bounds.length + 1)
  sum = 0
  count = 0

  constructor (labels: Labels) {
    this.labels = labels
  }

  observe (seconds: number): void {
    let bucket = 0
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++
    this.perBucket[bucket] = (this.perBucket[bucket] as number) + 1
    this.sum += seconds
    this.count += 1
  }

  reset (): void {
    this.perBucket.fill(0)
    this.sum = 0
    this.count = 0
  }

  exposition (): Array<MetricValueWithName<string>> {
    let cumulative = 0
    const values: Array<MetricValueWithName<string>> = bounds.map((bound, bucket) => {
      cumulative += this.perBucket[bucket] as number
      return { metricName: `${name}_bucket`, labels: { ...this.labels, le: bound }, value: cumulative }
    })
    values.push(
      { metricName: `${name}_bucket`, labels: { ...this.labels, le: '+Inf' }, value: this.count },
      { metricName: `${name}_sum`, labels: this.labels, value: this.sum },
      { metricName: `${name}_count`, labels: this.labels, value: this.count }
    )
    return values
  }
}

/**
 * `http_request_duration_seconds` by method, route and status, under fastify-metrics' names and
 * buckets. Both fastify-metrics and prom-client's `Histogram.observe` cost every request
 * allocations, a WeakMap entry and a label set validated and hashed: 5 µs of a probe's 50. Here
 * each route gets a hook of its own, which finds its series by method and status in two map
 * lookups and counts the duration Fastify already measured; prom-client formats it on a scrape.
 * Requests that matched no route are not observed: their URLs would make the label set unbounded.
 * Registered before the routes, so its `onRoute` hook sees each of them.
 */
export function observeHttpRequests (fastify: FastifyInstance, registry: Registry, skipRoutes: readonly string[]): void {
  const skipped = new Set(skipRoutes)
  const all: Series[] = []

  fastify.addHook('onRoute', (route) => {
    if (skipped.has(route.url)) return
    const byMethod = new Map<string, Map<number, Series>>()
    const observe: onResponseHookHandler = (request, reply, done) => {
      let byStatus = byMethod.get(request.method)
      if (byStatus === undefined) {
        byStatus = new Map()
        byMethod.set(request.method, byStatus)
      }
      let series = byStatus.get(reply.statusCode)
      if (series === undefined) {
        series = new Series({ method: request.method, route: route.url, status_code: String(reply.statusCode) })
        byStatus.set(reply.statusCode, series)
        all.push(series)
      }
      series.observe(reply.elapsedTime / 1000)
      done()
    }
    route.onResponse = [...[route.onResponse ?? []].flat(), observe]
  })

  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: all.flatMap((series) => series.exposition()) }),
    reset: () => { for (const series of all) series.reset() },
  }
  registry.registerMetric(metric as unknown as Metric)
}
