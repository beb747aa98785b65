import type { DeclaredTarget } from './targets-file.js'

/** One database (or one schema of one) the service governs beside, or as, its own: as declared, and where it came from. */
export interface FleetTarget extends DeclaredTarget {
  readonly source: 'self' | 'file' | 'discovered'
}

/** The URL with its password shown as `***`: what answers and logs may show. */
export function redactedUrl (url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // Not a URL we can take apart: nothing of it is shown, as it may hold a secret anywhere.
    return '***'
  }
  if (parsed.password !== '') parsed.password = '***'
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token/i.test(key)) parsed.searchParams.set(key, '***')
  }
  return parsed.toString().replace('%2A%2A%2A', '***')
}

/** Whether a label selector `{ k: v }` holds for the target's labels. */
export function matchesLabels (labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value)
}
