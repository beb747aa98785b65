// Debian's PgBouncer in transaction mode in front of the bench server, as operators run it.
// It refuses to run as root: then it runs as `postgres`, which owns its files.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { serverUrl } from './database.mjs'
import { freePort } from './processes.mjs'

export async function startPgBouncer ({ poolSize = 20 } = {}) {
  const server = new URL(serverUrl)
  const dir = await mkdtemp(join(tmpdir(), 'aip-bench-pgbouncer-'))
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
    'pool_mode = transaction',
    'ignore_startup_parameters = extra_float_digits',
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 500',
    `logfile = ${join(dir, 'pgbouncer.log')}`,
    '',
  ].join('\n'))
  // setpriv switches the user (pgbouncer's own -u would drop the death signal): an interrupted bench leaves no pooler behind.
  const args = ['--pdeathsig', 'KILL']
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }))
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }))
    for (const file of ['', 'users.txt', 'pgbouncer.ini']) await chown(join(dir, file), uid, gid)
    args.push(`--reuid=${uid}`, `--regid=${gid}`, '--init-groups')
  }
  const child = spawn('setpriv', [...args, 'pgbouncer', join(dir, 'pgbouncer.ini')], { stdio: 'ignore' })
  const exited = once(child, 'exit')
  const pooled = (url) => {
    const through = new URL(url)
    through.hostname = '127.0.0.1'
    through.port = String(port)
    return through.toString()
  }
  const deadline = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}`)
    const client = new pg.Client({ connectionString: pooled(serverUrl) })
    try {
      await client.connect()
      await client.query('SELECT 1')
      break
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    } finally {
      await client.end().catch(() => undefined)
    }
  }
  return {
    pooled,
    async stop () {
      if (child.exitCode === null) child.kill('SIGINT')
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
