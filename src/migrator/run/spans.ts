import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api'

/**
 * The engine's spans, through OpenTelemetry's API alone: with no SDK started (tracing off) the
 * tracer is a no-op and a span costs a function call. Statements run inside a span become its
 * children (node-postgres' own spans, when its instrumentation is on).
 */
const tracer = trace.getTracer('aip-schema.migrator')

export async function inSpan<T> (name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span)
    } catch (error) {
      span.recordException(error as Error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
      throw error
    } finally {
      span.end()
    }
  })
}

export const spanNames = {
  operation: 'migration operation',
  lockWait: 'migration lock wait',
  step: 'migration step',
} as const
