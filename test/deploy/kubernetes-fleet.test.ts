import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { parseInvocation } from '../../src/cli/usage.js'
import { parseTargetsFile } from '../../src/fleet/targets/targets-file.js'

/** deploy/kubernetes/fleet: the base with a targets file, the tenants' URLs and the rollout Job. */
const dir = fileURLToPath(new URL('../../deploy/kubernetes/fleet/', import.meta.url))
const files = (await readdir(dir)).filter((file) => file.endsWith('.yaml'))
const documents = new Map<string, any>()
for (const file of files) {
  const [document, ...more] = parseAllDocuments(await readFile(join(dir, file), 'utf8'))
  if (document === undefined || more.length > 0 || document.errors.length > 0) throw new Error(`${file}: one valid YAML document expected`)
  documents.set(file, document.toJS())
}
const kustomization = documents.get('kustomization.yaml')
const secret = documents.get('fleet-secret.yaml')
const configMap = documents.get('targets-configmap.yaml')
const patch = documents.get('deployment-targets.yaml')
const job = documents.get('rollout-job.yaml')
const container = patch.spec.template.spec.containers[0]
const env = Object.fromEntries(container.env.map((variable: { name: string, value?: string, valueFrom?: { secretKeyRef: { name: string, key: string } } }) => {
  const ref = variable.valueFrom?.secretKeyRef
  if (ref === undefined) return [variable.name, variable.value]
  if (ref.name !== secret.metadata.name || secret.stringData[ref.key] === undefined) throw new Error(`${variable.name}: no key ${ref.key} in ${ref.name}`)
  return [variable.name, secret.stringData[ref.key]]
}))

t.test('the overlay lists the base and every file, and patches the base Deployment', async (t) => {
  t.same([...kustomization.resources].sort(), ['..', ...files.filter((file) => file !== 'kustomization.yaml' && file !== 'deployment-targets.yaml')].sort())
  t.same(kustomization.patches, [{ path: 'deployment-targets.yaml' }])
  t.match(patch, { kind: 'Deployment', metadata: { name: 'aip-schema' } })
  t.equal(container.name, 'aip-schema', 'the base container, by name')
})

t.test('the targets file the replicas read is valid, and every URL it names comes from the Secret', async (t) => {
  const mount = container.volumeMounts.find((volume: { name: string }) => volume.name === 'targets')
  const volume = patch.spec.template.spec.volumes.find((entry: { name: string }) => entry.name === 'targets')
  t.equal(volume.configMap.name, configMap.metadata.name)
  const [key] = Object.keys(configMap.data)
  t.equal(env.TARGETS_FILE, `${mount.mountPath}/${key}`, 'TARGETS_FILE is the mounted key')
  const text = configMap.data[key as string] as string
  t.notMatch(text, /postgres:\/\//, 'no URL in the ConfigMap: only variables the Secret fills')
  const parsed = parseTargetsFile(text, env)
  t.same(parsed.environments, ['staging', 'production'])
  t.ok(parsed.targets.length >= 3)
  t.ok(parsed.targets.some((target) => target.schema !== null), 'a tenant-per-schema target among them')
})

t.test('the rollout Job starts and follows rollouts through the Service, staging first, with the migrate token', async (t) => {
  const [rollout] = job.spec.template.spec.containers
  t.same(rollout.command, ['sh', '-c'])
  const commands = (rollout.args[0] as string).split('&&').map((command) => command.trim().split(/\s+/))
  t.same(commands.map((command) => command.slice(0, 5)), [['aip-schema', 'rollout', 'head', '--env', 'staging'], ['aip-schema', 'rollout', 'head', '--env', 'production']])
  for (const command of commands) {
    const invocation = parseInvocation(command.slice(1))
    t.match(invocation, { kind: 'verb', verb: 'rollout', url: 'http://aip-schema', values: { wait: true } }, `${command.join(' ')}: a valid command`)
  }
  t.same(rollout.env, [{ name: 'AIP_SCHEMA_TOKEN', valueFrom: { secretKeyRef: { name: secret.metadata.name, key: 'ROLLOUT_TOKEN' } } }])
  t.same(job.spec.podFailurePolicy.rules[0].onExitCodes.values, [1, 2], 'a failed rollout or bad usage is not retried')
})
