// Alembic itself, where the machine has it (Debian's python3-alembic), running the reference
// project of the seed's four revisions on the same PostgreSQL.
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const alembicProject = process.env.BENCH_ALEMBIC_REF ?? fileURLToPath(new URL('../../../shared/anchors/alembic-ref/', import.meta.url))

/** The python3 that can import alembic and psycopg2, or null. */
export function findAlembicPython () {
  if (!existsSync(alembicProject)) return null
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import alembic, psycopg2'], { stdio: 'ignore' })
      return python
    } catch {
      // not this one
    }
  }
  return null
}

export function alembicVersion (python) {
  return execFileSync(python, ['-c', 'import alembic; print(alembic.__version__)'], { encoding: 'utf8' }).trim()
}

/** SQLAlchemy 1.4 knows only the postgresql:// scheme. */
export const sqlalchemyUrl = (url) => url.replace(/^postgres:\/\//, 'postgresql://')

/** `python -m alembic …` in `project` (the reference project by default) against `url`. */
export function alembicCommand (python, url, args, project = alembicProject) {
  return new Promise((resolve, reject) => {
    execFile(python, ['-m', 'alembic', ...args], {
      cwd: project,
      env: { ...process.env, DATABASE_URL: sqlalchemyUrl(url), PYTHONDONTWRITEBYTECODE: '1' },
    }, (error, stdout) => error ? reject(error) : resolve(stdout))
  })
}

/** The reference project's own in-process timings (alembic.command, no process start-up). */
export function alembicInProcess (python, serverUrl, iterations) {
  const server = new URL(sqlalchemyUrl(serverUrl))
  server.pathname = ''
  return new Promise((resolve, reject) => {
    execFile(python, [`${alembicProject}bench_inprocess.py`, String(iterations)], {
      env: { ...process.env, BENCH_SERVER: server.toString().replace(/\/$/, ''), BENCH_DB: `aip_bench_alembic_${process.pid}`, PYTHONDONTWRITEBYTECODE: '1' },
      maxBuffer: 1 << 22,
    }, (error, stdout) => {
      if (error) return reject(error)
      const modes = Object.fromEntries(stdout.trim().split('\n').map((line) => JSON.parse(line)).map((result) => [result.mode, result.raw]))
      resolve(modes)
    })
  })
}
