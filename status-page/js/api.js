const tokenKey = 'aip-schema-token'

/** The token lives in this tab's session storage only: closed, it is gone. */
export const token = {
  get: () => sessionStorage.getItem(tokenKey) ?? '',
  set: (value) => sessionStorage.setItem(tokenKey, value),
  clear: () => sessionStorage.removeItem(tokenKey),
}

/** An answer other than 2xx, with the service's RFC 9457 problem. */
export class ApiProblem extends Error {
  constructor (status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`)
    this.name = 'ApiProblem'
    this.status = status
    this.problem = problem
  }
}

/** A call to the service's JSON API with the token typed into the page, if any. */
export async function api (path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json, application/problem+json' }
  const secret = token.get()
  if (secret !== '') headers.authorization = `Bearer ${secret}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
  const json = /json/.test(response.headers.get('content-type') ?? '')
  // A proxy in front of the service may answer an error in HTML: then there is no problem to read.
  const parsed = json ? await response.json() : null
  if (!response.ok) throw new ApiProblem(response.status, parsed)
  return parsed
}
