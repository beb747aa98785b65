import { hash } from 'node:crypto'

/**
 * Tells the token a request came with from another, without keeping the token: a digest
 * salted apart from the one authentication compares, cut short.
 */
export function tokenFingerprint (secret: string | null): string | null {
  return secret === null ? null : hash('sha256', `aip-schema plan requester\0${secret}`, 'hex').slice(0, 32)
}
