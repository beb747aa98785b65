import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { createTestDatabase } from '../helpers/database.js'
import { copyOf, environment, instructions, readDockerfile } from '../helpers/dockerfile.js'
import { freePort } from '../helpers/server.js'
import { shippedHead } from '../helpers/shipped.js'
import { toolEnv } from '../helpers/tool-env.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const stages = await readDockerfile(join(root, 'Dockerfile'))
const build = stages[0]
const production = stages.at(-1)
if (build === undefined || production === undefined || stages.length < 2) throw new Error('expected a multi-stage Dockerfile')
const workdir = instructions(production, 'WORKDIR').at(-1)?.args ?? '/'
const run = instructions(production, 'RUN').map(({ args }) => args)

t.test('multi-stage: sources built in one stage, production dependencies only in the last, run as a user', async (t) => {
  t.ok(instructions(build, 'COPY').some((copy) => copyOf(copy).sources.includes('src')), 'the build stage compiles src')
  t.notOk(instructions(production, 'COPY').some((copy) => copyOf(copy).sources.includes('src')), 'no sources in the image')
  t.ok(run.some((command) => /npm ci\b.*--omit=dev/.test(command)), 'production dependencies only')
  t.ok(instructions(production, 'COPY').some((copy) => copyOf(copy).from === build.name && copyOf(copy).sources.includes('/app/dist')), 'the build output comes from the build stage')
  const user = instructions(production, 'USER').at(-1)?.args
  t.ok(user !== undefined && user !== 'root' && user !== '0', `runs as ${user}, not root`)
  const env = environment(production)
  t.equal(env.HOST, '0.0.0.0')
  t.equal(env.NODE_ENV, 'production')
  t.same(instructions(production, 'EXPOSE').map(({ args }) => args), [env.PORT ?? '3000'])
  t.same(JSON.parse(instructions(production, 'CMD').at(-1)?.args ?? '[]'), ['node', 'dist/server.js'])
  t.match(instructions(production, 'HEALTHCHECK').at(-1)?.args ?? '', /\/health\/live/)
  t.ok(run.some((command) => command.includes('ln -s /app/dist/cli/main.js /usr/local/bin/aip-schema')), 'the CLI is on PATH')
})

t.test('the image carries pg_dump and pg_restore for every PostgreSQL major the README supports', async (t) => {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const supported = /PostgreSQL (\d+) to (\d+)/.exec(readme)
  t.ok(supported !== null, 'the README names the supported PostgreSQL majors')
  const newest = Number(supported?.[2])
  const client = run.map((command) => /postgresql-client-(\d+)/.exec(command)?.[1]).find((major) => major !== undefined)
  t.ok(client !== undefined, 'the production stage installs a postgresql-client')
  t.ok(Number(client) >= newest, `pg_dump ${client ?? '?'} dumps servers up to PostgreSQL ${newest}: pg_dump refuses a newer server`)
  t.ok(run.some((command) => /signed-by=\S+ https:\/\/apt\.postgresql\.org\//.test(command)), "from the PostgreSQL project's apt repository, its key pinned")
  t.equal(environment(production).PG_BIN_DIR, `/usr/lib/postgresql/${client ?? ''}/bin`, 'PG_BIN_DIR names that client')
  t.ok(run.some((command) => command.includes('rm -rf /var/lib/apt/lists/*')), 'apt lists are not left in the image')
})

t.test('the image runs the Node.js major CI tests on, one the package supports', async (t) => {
  const majors = stages.map((stage) => /^node:(\d+)[-.@]/.exec(stage.from)?.[1])
  t.ok(majors.every((major) => major !== undefined), `every stage is an official node image: ${stages.map((stage) => stage.from).join(', ')}`)
  const major = Number(majors[0])
  t.same(new Set(majors), new Set([String(major)]), 'both stages on one Node.js major')
  t.ok(major >= 24, `Node.js ${major}: not past its end of life`)
  const ci = await readFile(join(root, '.ci', 'run'), 'utf8')
  t.equal(Number(/^node_major=(\d+)$/m.exec(ci)?.[1]), major, '.ci/run runs the suite on the image\'s Node.js')
  const { engines, devDependencies } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { engines: { node: string }, devDependencies: Record<string, string> }
  // npm's scripts (`npm start`, `npm test`) run the registry's `node` package from node_modules/.bin, whatever the machine's own Node is.
  t.equal(Number(/^\^(\d+)\./.exec(devDependencies.node ?? '')?.[1]), major, `npm's scripts run the image's Node.js: devDependency node ${devDependencies.node}`)
  const minimum = /^>=(\d+)\.(\d+)$/.exec(engines.node)
  t.ok(minimum !== null && Number(minimum[1]) <= major && Number(minimum[1]) >= 22, `engines ${engines.node} admits the image's Node.js and no release past its end of life`)
})

t.test('every path the Dockerfile copies exists once the project is built', async (t) => {
  for (const stage of stages) {
    for (const copy of instructions(stage, 'COPY').map(copyOf)) {
      // The build stage's WORKDIR /app is this checkout.
      const sources = copy.from === null ? copy.sources : copy.sources.map((source) => posix.relative('/app', source))
      for (const source of sources) await t.resolves(access(join(root, source)), `${stage.name ?? stage.from}: ${source}`)
    }
  }
  await t.resolves(access(join(root, 'dist', 'server.js')))
  await t.resolves(access(join(root, 'dist', 'cli', 'main.js')))
  t.match(await readFile(join(root, 'dist', 'cli', 'main.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the CLI keeps its shebang')
})

t.test('a production install made the way the Dockerfile makes it serves, and its CLI runs', async (t) => {
  const app = await mkdtemp(join(tmpdir(), 'aip-schema-image-'))
  t.teardown(() => rm(app, { recursive: true, force: true }))
  for (const copy of instructions(production, 'COPY').map(copyOf)) {
    const destination = join(app, posix.relative(workdir, posix.resolve(workdir, copy.destination)))
    for (const source of copy.sources) {
      const from = join(root, copy.from === null ? source : posix.relative('/app', source))
      // Docker's rules: a directory's contents go to the destination; files go into it when it is a directory.
      const intoDirectory = (await stat(from)).isFile() && (copy.destination.endsWith('/') || copy.sources.length > 1)
      await mkdir(intoDirectory ? destination : dirname(destination), { recursive: true })
      await cp(from, intoDirectory ? join(destination, basename(from)) : destination, { recursive: true })
    }
  }
  const install = run.flatMap((command) => command.split('&&').map((part) => part.trim())).find((command) => command.startsWith('npm ci'))
  t.ok(install, 'the image installs with npm ci')
  // From the local cache, as a builder with a warm cache would.
  await promisify(execFile)('npm', [...(install as string).split(/\s+/).slice(1), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: toolEnv({ NODE_ENV: 'production' }) })
  await t.rejects(access(join(app, 'node_modules', 'tap')), 'no development dependencies')

  // What the image runs as its user once it is installed: filling Node's compile cache, which every start reads.
  const user = production.instructions.findLastIndex((instruction) => instruction.keyword === 'USER')
  const asUser = production.instructions.slice(user + 1).filter((instruction) => instruction.keyword === 'RUN').map(({ args }) => args)
  const cache = environment(production).NODE_COMPILE_CACHE
  t.ok(cache !== undefined && asUser.length > 0, 'the image sets NODE_COMPILE_CACHE and fills it as the user the service runs as')
  for (const command of asUser) await promisify(execFile)('sh', ['-c', command], { cwd: app, env: { PATH: process.env.PATH ?? '', ...environment(production) } })
  const cached = await readdir(join(app, cache ?? ''), { recursive: true })
  t.ok(cached.length > 1000, `${cached.length} compiled modules in the image's cache`)

  const url = await createTestDatabase(t, 'image')
  const port = await freePort()
  const server = spawn(process.execPath, ['dist/server.js'], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', ...environment(production), HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: url, API_TOKENS: 'admin=image-admin', MIGRATE_ON_START: 'true', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  server.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  server.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(server, 'exit')
  t.teardown(async () => {
    if (server.exitCode === null) server.kill('SIGTERM')
    await exited
  })
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  while (!(await fetch(`${base}/health/live`).then((res) => res.ok, () => false))) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the service did not start: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const ready = await fetch(`${base}/health/ready`)
  t.equal(ready.status, 200, 'migrated on start and ready')

  // `ln -s /app/dist/cli/main.js /usr/local/bin/aip-schema`: the symlink runs through its shebang.
  const bin = join(app, 'bin')
  await mkdir(bin)
  await symlink(join(app, 'dist', 'cli', 'main.js'), join(bin, 'aip-schema'))
  const aipSchema = (args: string[], env: Record<string, string>) => new Promise<{ code: number | null, stdout: string }>((resolve, reject) => {
    const child = spawn(join(bin, 'aip-schema'), args, { cwd: app, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout }))
  })
  const current = await aipSchema(['current'], { DATABASE_URL: url })
  t.same(current, { code: 0, stdout: `${shippedHead} (head)\n` })
  const upgrade = await aipSchema(['upgrade', 'head', '--url', base], { AIP_SCHEMA_TOKEN: 'image-admin' })
  t.same(upgrade, { code: 0, stdout: `Nothing to do: the database is at ${shippedHead}\n` })
  t.equal((await runCli(['check'], { DATABASE_URL: url })).code, 0)
})
