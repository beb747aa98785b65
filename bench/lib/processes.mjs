// The service and the baselines run as processes of their own, as they would in production,
// and the load comes from yet another (wrk): the bench process only orchestrates.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadRevisions, RevisionGraph } from '../../dist/migrator/index.js'

export const repository = fileURLToPath(new URL('../../', import.meta.url))
export const benchToken = 'bench-admin'
export const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info'

export function freePort () {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function waitUntilServing (base, child) {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnargs.join(' ')} exited with ${child.exitCode}`)
    try {
      const res = await fetch(`${base}/health/live`)
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${base} did not start within 120 s`)
}

async function start (script, env) {
  const port = await freePort()
  const child = spawn(process.execPath, [script], {
    cwd: repository,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: logLevel, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  await waitUntilServing(base, child)
  return {
    base,
    pid: child.pid,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}

/**
 * `node dist/server.js` on `databaseUrl`, with an admin token. Its rate limits are raised out
 * of the load's way: they still run on every request, they just never answer 429.
 */
export function startService (databaseUrl, env = {}) {
  return startServiceFrom(repository, databaseUrl, env)
}

/** The same, from another build's directory (its `dist/server.js`): an older release, say. */
export function startServiceFrom (root, databaseUrl, env = {}) {
  return start(join(root, 'dist/server.js'), {
    DATABASE_URL: databaseUrl,
    API_TOKENS: `admin=${benchToken}`,
    MIGRATE_ON_START: 'false',
    RATE_LIMIT_MIGRATIONS_PER_MINUTE: '1000000000',
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000000',
    ...env,
  })
}

/**
 * The bare Fastify baseline (bench/servers/bare.mjs), with the SQL it should send if any. Its
 * probes name the build's own heads, so its answers weigh what the service's do.
 */
export async function startBare (env = {}) {
  const { heads } = RevisionGraph.build(await loadRevisions())
  return start('bench/servers/bare.mjs', { BENCH_HEADS: heads.join(','), ...env })
}

export const authorization = { authorization: `Bearer ${benchToken}` }

/** A process's resident memory in MB, from /proc. */
export async function rssMb (pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024
}
