// Load from a second process: wrk, one thread, N connections, for a fixed duration.
import { execFile, execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function wrkAvailable () {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    // wrk prints its usage and exits 1 on --version: it is there.
    return error.status === 1
  }
}

const units = { us: 0.001, ms: 1, s: 1000, m: 60_000 }
const toMs = (text) => {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text)
  return match ? Number(match[1]) * units[match[2]] : NaN
}

function script (method, body, headers) {
  const path = join(tmpdir(), `aip-bench-wrk-${process.pid}-${Math.random().toString(36).slice(2, 8)}.lua`)
  const lines = [`wrk.method = ${JSON.stringify(method)}`]
  if (body !== undefined) lines.push(`wrk.body = ${JSON.stringify(body)}`)
  for (const [name, value] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}

/** One wrk run: requests served (2xx/3xx) per second, latency percentiles (ms), and how many answers were not 2xx/3xx. */
export function wrk ({ url, connections = 50, durationS = 5, method = 'GET', body, headers = {}, timeoutS = 10 }) {
  const lua = script(method, body, { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) })
  const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--latency', '--timeout', `${timeoutS}s`, '-s', lua, url]
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error)
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1])
      const requests = Number(/(\d+) requests in/.exec(stdout)?.[1])
      // With nothing answered wrk prints zeros: that is no latency at all, not a fast one.
      const latency = (p) => requests > 0 ? toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1] ?? '') : NaN
      const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0)
      const errors = /Socket errors: (.*)/.exec(stdout)?.[1] ?? null
      // Answers that were not 2xx/3xx (a 503 at a timeout) are fast and cheap: they do not count as served.
      const served = requests > 0 ? rps * (requests - failed) / requests : 0
      resolve({ rps: served, requests, p50: latency(50), p99: latency(99), failed, errors })
    })
  })
}
