import t from 'tap'
import { tracingRequested } from '../../src/tracing/requested.js'

t.test('off unless an exporter is named', async (t) => {
  t.equal(tracingRequested({}), false, 'nothing set')
  t.equal(tracingRequested({ OTEL_SERVICE_NAME: 'aip-schema' }), false, 'a service name alone')
  t.equal(tracingRequested({ OTEL_TRACES_EXPORTER: '' }), false, 'an empty list')
})

t.test('on when an exporter or an OTLP endpoint is named', async (t) => {
  t.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' }), true)
  t.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' }), true)
  t.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true)
  t.equal(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true)
})

t.test('the standard ways to turn it off win', async (t) => {
  t.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false, 'none')
  t.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp, None' }), false, 'none among others, any case')
  t.equal(tracingRequested({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }), false, 'the SDK disabled')
  t.equal(tracingRequested({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }), true, 'disabled=false is on')
})
