import pretty from 'pino-pretty'
import type { DestinationStream } from 'pino'
import { bannerLines, type StartBanner } from './banner.js'

const indent = '    '
/** What a terminal reader does not need from every line; `LOG_FORMAT=json` keeps it all. */
const unshownFields = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'req', 'res', 'responseTime', 'err', 'banner'])
const longestValue = 120
const errorLevel = 50
const warnLevel = 40

/**
 * Lines for a person at a terminal: time, level and the message, one line per record. The
 * messages say what happened; a warning or an error adds its fields and the error's message,
 * an error its stack. A stream in this thread rather than pino's worker transport: the compiled
 * service resolves nothing by name at run time, a function can format the messages, and the last
 * lines before `process.exit` are written, in order with what goes to standard error.
 */
export function prettyStream (destination: NodeJS.WritableStream = process.stdout): DestinationStream {
  return pretty({
    destination,
    sync: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
    hideObject: true,
    messageFormat: (log, messageKey) => prettyMessage(log, messageKey),
  })
}

/** One record's message as a terminal shows it. */
export function prettyMessage (log: Record<string, unknown>, messageKey: string): string {
  const level = typeof log.level === 'number' ? log.level : 0
  const parts = [String(log[messageKey] ?? '')]
  const request = log.req as { method?: string, url?: string } | undefined
  if (request !== undefined) parts.push(`${request.method ?? ''} ${request.url ?? ''}`)
  const response = log.res as { statusCode?: number } | undefined
  if (response !== undefined) parts.push(`${response.statusCode ?? ''}${typeof log.responseTime === 'number' ? ` in ${log.responseTime.toFixed(1)} ms` : ''}`)
  const error = log.err as { message?: string, stack?: string } | undefined
  if (level >= warnLevel) {
    parts.push(...Object.entries(log).filter(([key]) => !unshownFields.has(key) && key !== messageKey).map(([key, value]) => `${key}=${shown(value)}`))
    if (error?.message !== undefined) parts.push(`(${error.message})`)
  }
  const lines = [parts.filter((part) => part !== '').join(' ')]
  if (log.banner !== undefined) lines.push(...bannerLines(log.banner as StartBanner).map((line) => `${indent}${line}`))
  if (level >= errorLevel && error?.stack !== undefined) lines.push(...error.stack.split('\n').slice(1).map((line) => `${indent}${line.trim()}`))
  return lines.join('\n')
}

function shown (value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  return text.length > longestValue ? `${text.slice(0, longestValue - 1)}…` : text
}
