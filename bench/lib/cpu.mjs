// CPU time from /proc (Linux): a process's own, and a local PostgreSQL's as a whole: the
// postmaster, the backends it has reaped (their time is added to its children's on exit) and
// the backends alive now. Null where /proc cannot tell (another OS, a PostgreSQL elsewhere).
import { readdir, readFile } from 'node:fs/promises'

/** USER_HZ: /proc counts CPU time in these ticks on every Linux the kernel ABI allows. */
const ticksPerSecond = 100

async function stat (pid) {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8')
  // After the command's name in parentheses: state, ppid, ..., utime (14th field), stime, cutime, cstime.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const number = (field) => Number(fields[field - 3])
  return { ppid: number(4), own: number(14) + number(15), reaped: number(16) + number(17) }
}

/** Seconds of CPU `pid` has used so far. */
export async function processCpuSeconds (pid) {
  return (await stat(pid)).own / ticksPerSecond
}

/** The postmaster behind a connected pg client, when it runs on this machine; else null. */
export async function localPostmaster (client) {
  try {
    const { rows } = await client.query('SELECT pg_backend_pid() AS pid')
    return (await stat(rows[0].pid)).ppid
  } catch {
    return null
  }
}

/** Seconds of CPU the whole PostgreSQL has used so far: the postmaster, its reaped backends and its live ones. */
export async function postgresCpuSeconds (postmaster) {
  const root = await stat(postmaster)
  let ticks = root.own + root.reaped
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const child = await stat(entry).catch(() => null)
    if (child?.ppid === postmaster) ticks += child.own
  }
  return ticks / ticksPerSecond
}
