/**
 * The oldest Node.js this service runs on: `engines.node` in package.json, kept equal by a test.
 * `enableCompileCache`, `require(esm)` and the rest of what the service uses are there from it on.
 */
export const minimumNodeVersion = '22.12'

/** Null when `found` (`process.versions.node`) is recent enough, else the one line that says so. */
export function unsupportedNodeMessage (found: string, executable: string): string | null {
  const [major = 0, minor = 0] = found.split('.').map(Number)
  const [neededMajor = 0, neededMinor = 0] = minimumNodeVersion.split('.').map(Number)
  if (major > neededMajor || (major === neededMajor && minor >= neededMinor)) return null
  return `aip-schema: needs Node.js ${minimumNodeVersion} or later, found ${found} (${executable}); ` +
    '`npm start` and `npx aip-schema` run the Node.js that `npm install` put in node_modules'
}

/**
 * The entries (the server, the CLI) call this first and load everything else afterwards with a
 * dynamic import: a module using what an older Node lacks fails while it is being linked, with a
 * stack trace, before any code of it could say why.
 */
export function exitOnUnsupportedNode (): void {
  const message = unsupportedNodeMessage(process.versions.node, process.execPath)
  if (message === null) return
  process.stderr.write(`${message}\n`)
  process.exit(1)
}
