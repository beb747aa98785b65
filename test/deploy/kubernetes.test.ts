import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { parseApiTokens } from '../../src/auth/tokens.js'
import { loadConfig } from '../../src/config.js'
import { buildTestApp } from '../helpers/app.js'
import { createTestDatabase } from '../helpers/database.js'
import { environment, instructions, readDockerfile } from '../helpers/dockerfile.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dir = join(root, 'deploy', 'kubernetes')

interface EnvVar { name: string, value?: string, valueFrom?: { secretKeyRef?: { name: string, key: string } } }
interface Probe { httpGet: { path: string, port: string | number } }
interface Container {
  name: string
  image: string
  command?: string[]
  ports?: Array<{ name?: string, containerPort: number }>
  env?: EnvVar[]
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
}
interface PodTemplate { metadata: { labels: Record<string, string> }, spec: { containers: Container[], restartPolicy?: string } }
interface Manifest { apiVersion: string, kind: string, metadata: { name: string }, spec?: any, stringData?: Record<string, string> }

const files = (await readdir(dir)).filter((file) => /\.ya?ml$/.test(file))
const manifests: Manifest[] = []
for (const file of files) {
  for (const document of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`)
    manifests.push(document.toJS() as Manifest)
  }
}
const one = (kind: string) => {
  const found = manifests.filter((manifest) => manifest.kind === kind)
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`)
  return found[0] as Manifest
}
const deployment = one('Deployment')
const service = one('Service')
const secret = one('Secret')
const job = one('Job')
const pod = deployment.spec.template as PodTemplate
const container = pod.spec.containers[0] as Container
const jobContainer = (job.spec.template as PodTemplate).spec.containers[0] as Container

/** A probe's port, named or numbered, as the container port number. */
function portOf (target: string | number): number | undefined {
  return typeof target === 'number' ? target : container.ports?.find((port) => port.name === target)?.containerPort
}

/** The container's environment with Secret references resolved from the Secret manifest. */
function resolvedEnv (env: EnvVar[] = []): Record<string, string> {
  return Object.fromEntries(env.map((variable) => {
    const ref = variable.valueFrom?.secretKeyRef
    if (ref === undefined) return [variable.name, variable.value ?? '']
    if (ref.name !== secret.metadata.name || secret.stringData?.[ref.key] === undefined) throw new Error(`${variable.name} refers to a missing secret key ${ref.name}/${ref.key}`)
    return [variable.name, secret.stringData[ref.key] as string]
  }))
}

t.test('every manifest parses and names itself', async (t) => {
  t.ok(files.length >= 4)
  // A Kustomization is kustomize's own file, not an object in the cluster.
  for (const manifest of manifests.filter((manifest) => manifest.kind !== 'Kustomization')) {
    t.type(manifest.apiVersion, 'string')
    t.type(manifest.metadata?.name, 'string', `${manifest.kind} has a name`)
  }
  const kustomization = manifests.find((manifest) => manifest.kind === 'Kustomization') as unknown as { resources: string[] }
  t.same([...kustomization.resources].sort(), files.filter((file) => file !== 'kustomization.yaml').sort(), 'the kustomization lists every manifest')
})

t.test('the probes and ports are the ones the app serves', async (t) => {
  const url = await createTestDatabase(t, 'kubernetes')
  const app = await buildTestApp(t, url)
  const env = resolvedEnv(container.env)
  const config = loadConfig(env)
  t.equal(portOf('http'), config.port, 'the container port is the PORT the service listens on')
  const image = environment((await readDockerfile(join(root, 'Dockerfile'))).at(-1) as never)
  t.equal(String(portOf('http')), image.PORT, "and the image's")
  t.same(instructions((await readDockerfile(join(root, 'Dockerfile'))).at(-1) as never, 'EXPOSE').map(({ args }) => Number(args)), [portOf('http')])
  t.equal(container.readinessProbe?.httpGet.path, '/health/ready')
  t.equal(container.livenessProbe?.httpGet.path, '/health/live')
  for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
    t.equal(portOf(probe?.httpGet.port ?? ''), config.port)
    t.ok(app.hasRoute({ method: 'GET', url: probe?.httpGet.path ?? '' }), `${probe?.httpGet.path} is a route`)
    const res = await app.inject({ method: 'GET', url: probe?.httpGet.path ?? '' })
    t.not(res.statusCode, 401, 'probes need no token')
  }
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200)
})

t.test('liveness never touches the database', async (t) => {
  const app = await buildTestApp(t, 'postgres://nobody@127.0.0.1:9/unreachable')
  const live = await app.inject({ method: 'GET', url: container.livenessProbe?.httpGet.path ?? '' })
  t.equal(live.statusCode, 200, 'alive with no database at all')
  const ready = await app.inject({ method: 'GET', url: container.readinessProbe?.httpGet.path ?? '' })
  t.equal(ready.statusCode, 503, 'but not ready')
})

t.test('the Service sends its port to the pods of the Deployment', async (t) => {
  for (const [key, value] of Object.entries(service.spec.selector as Record<string, string>)) t.equal(pod.metadata.labels[key], value, `selector ${key}`)
  t.same(deployment.spec.selector.matchLabels, Object.fromEntries(Object.keys(deployment.spec.selector.matchLabels).map((key) => [key, pod.metadata.labels[key]])))
  const [port] = service.spec.ports as Array<{ targetPort: string | number }>
  t.equal(portOf(port?.targetPort ?? ''), container.ports?.[0]?.containerPort)
})

t.test('the Secret holds what the service needs, as placeholders', async (t) => {
  const env = resolvedEnv(container.env)
  t.doesNotThrow(() => loadConfig(env), 'the replicas start on it')
  t.ok(parseApiTokens(env.API_TOKENS ?? '').length > 0)
  t.equal(env.MIGRATE_ON_START, 'false', 'the Job migrates, replicas only serve')
  for (const value of Object.values(secret.stringData ?? {})) t.match(value, /CHANGE-ME/, 'no real secret is committed')
})

t.test('the replicas send data through the pooler and keep their sessions on the direct connection', async (t) => {
  const env = resolvedEnv(container.env)
  const config = loadConfig(env)
  t.match(config.databaseUrl, /^postgres:\/\//)
  t.match(config.migrationDatabaseUrl, /^postgres:\/\//)
  t.not(new URL(config.databaseUrl ?? '').host, new URL(config.migrationDatabaseUrl ?? '').host, 'two endpoints: the pooler and PostgreSQL')
})

t.test('the migration Job runs the CLI once against the database and fails on any error', async (t) => {
  t.equal(jobContainer.image, container.image, 'the release it migrates for')
  t.same(jobContainer.command?.slice(0, 3), ['aip-schema', 'upgrade', 'head'])
  const env = resolvedEnv(jobContainer.env)
  t.equal(env.MIGRATION_DATABASE_URL, secret.stringData?.MIGRATION_DATABASE_URL, 'on the direct connection, which the CLI prefers')
  t.equal(env.DATABASE_URL, undefined, 'and not the pooler')
  t.match(env.MIGRATION_LOCK_WAIT_MS, /^\d+$/)
  const spec = job.spec.template.spec as { restartPolicy: string }
  t.equal(spec.restartPolicy, 'Never', 'a failed run is a failed pod, not a restarted container')
  const [rule] = job.spec.podFailurePolicy.rules as Array<{ action: string, onExitCodes: { containerName: string, operator: string, values: number[] } }>
  t.same(rule, { action: 'FailJob', onExitCodes: { containerName: jobContainer.name, operator: 'NotIn', values: [3] } }, 'only a lock held elsewhere is retried')
})
