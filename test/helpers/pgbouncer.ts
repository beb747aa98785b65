import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { serverUrl } from './database.js'
import { freePort } from './server.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface TestPooler {
  /** `url` with its host and port swapped for the pooler's. */
  pooled (url: string): string
  /** Transactions the pooler has carried to `database` so far (its admin console's `SHOW STATS`). */
  transactions (database: string): Promise<number>
}

/**
 * Debian's PgBouncer (in transaction mode unless asked) in front of the test server, as operators run it
 * (`ignore_startup_parameters = extra_float_digits`), on a free port in a temporary directory;
 * stopped at teardown even when the test fails. PgBouncer will not run as root: then it runs
 * as `postgres`, which owns its files.
 */
export async function startPgBouncer (t: Teardown, options: { poolSize?: number, poolMode?: 'transaction' | 'session' } = {}): Promise<TestPooler> {
  const binary = findPgBouncer()
  const server = new URL(serverUrl)
  const dir = await mkdtemp(join(tmpdir(), 'aip-pgbouncer-'))
  const port = await freePort()
  const user = decodeURIComponent(server.username || 'postgres')
  await writeFile(join(dir, 'users.txt'), `"${user}" "${decodeURIComponent(server.password)}"\n`)
  await writeFile(join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || '5432'}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'users.txt')}`,
    `pool_mode = ${options.poolMode ?? 'transaction'}`,
    'ignore_startup_parameters = extra_float_digits',
    `default_pool_size = ${options.poolSize ?? 10}`,
    'max_client_conn = 500',
    `admin_users = ${user}`,
    'stats_period = 1',
    `logfile = ${join(dir, 'pgbouncer.log')}`,
    `pidfile = ${join(dir, 'pgbouncer.pid')}`,
    '',
  ].join('\n'))
  // setpriv switches the user itself (pgbouncer's own -u would drop the death signal) and ends
  // PgBouncer with this process, even when a timeout kills it before its teardown runs.
  const args = ['--pdeathsig', 'KILL']
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }))
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }))
    for (const path of [dir, join(dir, 'users.txt'), join(dir, 'pgbouncer.ini')]) await chown(path, uid, gid)
    args.push(`--reuid=${uid}`, `--regid=${gid}`, '--init-groups')
  }
  const child = spawn('setpriv', [...args, binary, join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    }
    await rm(dir, { recursive: true, force: true })
  })
  const pooled = (url: string): string => {
    const through = new URL(url)
    through.hostname = '127.0.0.1'
    through.port = String(port)
    return through.toString()
  }
  await waitUntilAnswering(pooled(serverUrl), child, async () => `${output}${await readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '')}`)
  const transactions = async (database: string): Promise<number> => {
    const admin = new URL(pooled(serverUrl))
    admin.pathname = '/pgbouncer'
    const client = new pg.Client({ connectionString: admin.toString() })
    await client.connect()
    try {
      const { rows } = await client.query<{ database: string, total_xact_count: string }>('SHOW STATS')
      return Number(rows.find((row) => row.database === database)?.total_xact_count ?? 0)
    } finally {
      await client.end()
    }
  }
  return { pooled, transactions }
}

function findPgBouncer (): string {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' })
      return candidate
    } catch {}
  }
  throw new Error('pgbouncer is not installed: apt-get install -y pgbouncer (.ci/run does it)')
}

async function waitUntilAnswering (url: string, child: ReturnType<typeof spawn>, log: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}: ${await log()}`)
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`pgbouncer did not answer: ${(error as Error).message}\n${await log()}`)
    } finally {
      await client.end().catch(() => undefined)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
