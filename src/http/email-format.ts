import { isIPv4, isIPv6 } from 'node:net'

/*
 * RFC 5321's Mailbox (section 4.1.2), which is what JSON Schema's `format: email` names: a
 * dot-string or quoted local part, then a domain of letter-digit-hyphen labels (one label will do:
 * `a@localhost`) or an address literal (`a@[127.0.0.1]`, `a@[IPv6:::1]`). ASCII only: non-ASCII
 * addresses are `idn-email`. ajv-formats' email rejects quoted local parts, address literals and
 * one-label domains; smtp-address-parser rejects one-label domains and accepts non-ASCII: neither
 * is the documented format.
 */
const atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
const quotedString = '"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\x20-\\x7e])*"'
const label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const mailbox = new RegExp(`^(${atom}(?:\\.${atom})*|${quotedString})@(?:(${label}(?:\\.${label})*)|\\[(?:IPv6:([0-9A-Fa-f:.]+)|([0-9.]+))\\])$`)

/** Section 4.5.3.1: at most 64 octets before the `@`, 255 after it. */
const maxLocalPart = 64
const maxDomain = 255

export function isMailbox (value: string): boolean {
  const match = mailbox.exec(value)
  if (match === null) return false
  const [, localPart = '', domain, ipv6, ipv4] = match
  if (localPart.length > maxLocalPart) return false
  if (domain !== undefined) return domain.length <= maxDomain
  return ipv6 !== undefined ? isIPv6(ipv6) : isIPv4(ipv4 ?? '')
}
