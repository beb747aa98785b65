import { hash, timingSafeEqual } from 'node:crypto'
import { ConfigError } from '../config-error.js'

export const scopes = ['read', 'write', 'migrate', 'admin'] as const
export type Scope = typeof scopes[number]

export interface ApiToken {
  readonly scope: Scope
  /** sha256 of the secret: compared in constant time, never logged. */
  readonly digest: Buffer
}

/** `admin=s3cret,read=r34d` → tokens; an unknown scope or an empty secret is a configuration error. */
export function parseApiTokens (value: string): ApiToken[] {
  const tokens: ApiToken[] = []
  for (const pair of value.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const separator = pair.indexOf('=')
    const scope = pair.slice(0, separator)
    const secret = pair.slice(separator + 1)
    if (separator <= 0 || secret === '') {
      throw new ConfigError('invalid configuration: API_TOKENS must be comma-separated scope=token pairs')
    }
    if (!isScope(scope)) {
      throw new ConfigError(`invalid configuration: API_TOKENS names unknown scope '${scope}' (expected one of ${scopes.join(', ')})`)
    }
    tokens.push({ scope, digest: digest(secret) })
  }
  return tokens
}

/** The scope of the presented secret, or null. Every token is compared, so timing says nothing. */
export function scopeOf (tokens: readonly ApiToken[], secret: string): Scope | null {
  const presented = digest(secret)
  let found: Scope | null = null
  for (const token of tokens) {
    if (timingSafeEqual(token.digest, presented) && (found === null || rank(token.scope) > rank(found))) {
      found = token.scope
    }
  }
  return found
}

/**
 * `scopeOf` with the secrets already verified remembered: an authenticated request then costs a
 * map lookup, not a sha256. Only secrets that matched a token are kept, so the map holds at most
 * one entry per configured token, whatever clients send; an unknown secret is hashed every time.
 * Telling a known secret from an unknown one by timing reveals nothing the 401 does not.
 */
export function createTokenVerifier (tokens: readonly ApiToken[]): (secret: string) => Scope | null {
  const verified = new Map<string, Scope>()
  return (secret) => {
    const remembered = verified.get(secret)
    if (remembered !== undefined) return remembered
    const scope = scopeOf(tokens, secret)
    if (scope !== null) verified.set(secret, scope)
    return scope
  }
}

export function grants (held: Scope, required: Scope): boolean {
  return rank(held) >= rank(required)
}

function rank (scope: Scope): number {
  return scopes.indexOf(scope)
}

function isScope (value: string): value is Scope {
  return (scopes as readonly string[]).includes(value)
}

/** The one-shot `hash` costs half of a `createHash` object, and every authenticated request pays it. */
function digest (secret: string): Buffer {
  return hash('sha256', secret, 'buffer')
}
