// `npm test`: the suite against TEST_DATABASE_URL, or, when nothing answers at the default
// address and TEST_DATABASE_URL is unset, against an embedded PostgreSQL started for the run.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { startEmbeddedTestDatabase } from './embedded-test-database.mjs'

const defaultUrl = 'postgres://postgres@127.0.0.1:5432/postgres'

async function answers (url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

function run (command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

// Child-process tests run the service the way a user does, from the build.
if (await run('npm', ['run', '-s', 'build'], process.env) !== 0) process.exit(1)

let embedded = null
const env = { ...process.env }
// Every test file is a process of its own that loads the app's modules (and many start the CLI
// or the service): V8's compiled code for them, kept on disk, spares each about 0.4 s of compiling.
env.NODE_COMPILE_CACHE ??= fileURLToPath(new URL('../node_modules/.cache/aip-schema-compile/', import.meta.url))
if (env.TEST_DATABASE_URL === undefined && !(await answers(defaultUrl))) {
  embedded = await startEmbeddedTestDatabase().catch((error) => {
    console.error(`npm test: nothing answers at ${defaultUrl}, and the embedded PostgreSQL did not start: ${error.message}`)
    process.exit(1)
  })
  env.TEST_DATABASE_URL = embedded.url
  console.log(`# nothing answers at ${defaultUrl}: testing against an embedded PostgreSQL in ${embedded.dataDir}`)
}
const code = await run('npx', ['tap', ...process.argv.slice(2)], env)
await embedded?.stop()
process.exit(code !== 0 ? code : await coverageBelowBar())

/**
 * tap enforces 100% or nothing; the bar this project keeps is lower but real: a change that
 * drops line or branch coverage of src/ below it fails the run.
 */
async function coverageBelowBar () {
  if (process.argv.length > 2) return 0
  const bar = { lines: 90, branches: 80 }
  const summary = JSON.parse(await readFile(new URL('../.tap/report/coverage-summary.json', import.meta.url), 'utf8')).total
  const below = Object.entries(bar).filter(([metric, minimum]) => summary[metric].pct < minimum)
  for (const [metric, minimum] of below) console.error(`# coverage of ${metric} is ${summary[metric].pct}%, below the bar of ${minimum}%`)
  return below.length === 0 ? 0 : 1
}
