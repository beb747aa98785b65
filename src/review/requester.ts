import { hash } from 'node:crypto'

const bearer = /^Bearer +(\S+)$/i

/**
 * Tells the token a request came with from another, without keeping the token: a digest
 * salted apart from the one authentication compares, cut short.
 */
export function tokenFingerprint (authorization: string | undefined): string | null {
  const secret = bearer.exec(authorization ?? '')?.[1]
  return secret === undefined ? null : hash('sha256', `aip-schema plan requester\0${secret}`, 'hex').slice(0, 32)
}
