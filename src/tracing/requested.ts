/**
 * Tracing costs nothing unless asked for: the standard `OTEL_*` variables must name an exporter
 * (`OTEL_TRACES_EXPORTER`, or an OTLP endpoint, which implies the default `otlp` one), and
 * `OTEL_SDK_DISABLED=true` or an exporter list with `none` turn it off again.
 */
export function tracingRequested (env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '')
  if (exporters.includes('none')) return false
  if (exporters.length > 0) return true
  return [env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT].some((value) => value !== undefined && value.trim() !== '')
}
