import type { LoggerOptions } from 'pino'

/**
 * The service's pino options. Fastify's request serializer leaves headers out, but anything that
 * logs a request or its headers whole would print a bearer token: these paths are censored wherever
 * they appear.
 */
export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'request.headers.authorization'],
      censor: '[redacted]',
    },
  }
}
