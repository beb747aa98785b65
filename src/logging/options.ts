import type { DestinationStream, LoggerOptions } from 'pino'
import type { LogFormat } from '../config.js'
import { prettyStream } from './pretty.js'

/**
 * The service's pino options: JSON lines, or lines for a person at a terminal. Fastify's request
 * serializer leaves headers out, but anything that logs a request or its headers whole would
 * print a bearer token: these paths are censored wherever they appear.
 */
export function loggerOptions (level: string, format: LogFormat = 'json'): LoggerOptions & { stream?: DestinationStream } {
  const options: LoggerOptions = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'request.headers.authorization'],
      censor: '[redacted]',
    },
  }
  return format === 'pretty' ? { ...options, stream: prettyStream() } : options
}
