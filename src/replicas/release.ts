import { readFileSync } from 'node:fs'

/**
 * The package version this replica runs, read from package.json beside src/ and dist/ alike
 * (both sit one level below the project's root).
 */
export function packageVersion (): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
  return typeof manifest.version === 'string' ? manifest.version : 'unknown'
}
