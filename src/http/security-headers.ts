import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * What OWASP's REST Security Cheat Sheet asks of a JSON API's answers: not sniffed, framed or
 * cached. Every answer, probes included, carries and pays for these, so helmet's headers for HTML
 * pages stay on the one page served (/docs). HSTS is the TLS terminator's to send: this service
 * speaks plain HTTP behind its ingress, and browsers ignore HSTS over plain HTTP.
 */
export const apiSecurityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
})

/**
 * Helmet's headers for HTML pages, computed once at start-up. `@fastify/helmet` runs helmet's
 * middleware on every request, re-parsing the Content-Security-Policy each time; the policy is
 * static here, so its headers are too.
 */
export function documentSecurityHeaders (options: Readonly<HelmetOptions>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader (name: string, value: string | number | readonly string[]) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { delete headers[name.toLowerCase()] },
  }
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined && error !== null) throw error
  })
  return Object.freeze(headers)
}
