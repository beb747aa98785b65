const bearer = /^Bearer +(\S+)$/i

/** The secret of an `Authorization: Bearer <token>` header; null when there is none or it is not a bearer token. */
export function bearerSecret (authorization: string | undefined): string | null {
  return bearer.exec(authorization ?? '')?.[1] ?? null
}
