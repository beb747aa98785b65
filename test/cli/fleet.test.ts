import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { createTestDatabase } from '../helpers/database.js'
import { runServerToExit, startServer } from '../helpers/server.js'

const password = 'Cl1-fleet-secret'

const targetsYaml = `
environments: [development, production]
self: { name: home, environment: development }
targets:
  - { name: tenant-a, environment: production, url: "\${TENANTS_URL}", schema: tenant_a, labels: { tenant: a } }
  - { name: tenant-b, environment: production, url: "\${TENANTS_URL}", schema: tenant_b, labels: { tenant: b } }
  - { name: gone, environment: production, url: "postgres://postgres:${password}@127.0.0.1:1/nowhere" }
`

t.test('aip-schema targets and fleet, directly and through a running service', async (t) => {
  const selfUrl = await createTestDatabase(t, 'cli_fleet_self')
  const tenants = new URL(await createTestDatabase(t, 'cli_fleet_tenants'))
  tenants.password = password
  const dir = await mkdtemp(join(tmpdir(), 'aip-schema-targets-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'targets.yaml')
  await writeFile(file, targetsYaml)
  const env = { DATABASE_URL: selfUrl, TARGETS_FILE: file, TENANTS_URL: tenants.toString() }

  const targets = await runCli(['targets', '--json'], env)
  t.equal(targets.code, 0, targets.stderr)
  t.same(targets.json().targets.map((target: { name: string }) => target.name), ['home', 'tenant-a', 'tenant-b', 'gone'])
  const table = await runCli(['targets'], env)
  t.match(table.stdout, /^NAME\s+ENVIRONMENT\s+SCHEMA\s+LABELS\s+SOURCE\s+URL\n/)
  t.match(table.stdout, /tenant-a\s+production\s+tenant_a\s+tenant:a\s+file\s+postgres:\/\/postgres:\*\*\*@/)

  const upgraded = await runCli(['upgrade', '--json'], { DATABASE_URL: selfUrl })
  t.equal(upgraded.code, 0, upgraded.stderr)
  const fleet = await runCli(['fleet', '--env', 'production', '--label', 'tenant:a', '--json'], env)
  t.equal(fleet.code, 0, fleet.stderr)
  t.match(fleet.json(), { summary: { total: 1, behind: 1 }, targets: [{ name: 'tenant-a', reachable: true, upToDate: false, current: [] }] })
  const fleetTable = await runCli(['fleet'], env)
  t.equal(fleetTable.code, 0)
  t.match(fleetTable.stdout, /^NAME\s+ENVIRONMENT\s+CURRENT\s+STATE/)
  t.match(fleetTable.stdout, /\ngone\s+production\s+\?\s+unreachable/)
  t.match(fleetTable.stdout, /\nhome\s+development\s+\S+\s+up to date\s+-\s+-\s+upgrade succeeded/)
  t.match(fleetTable.stdout, /4 targets: 1 up to date, 2 behind, 0 ahead, 1 unreachable\n$/)
  const badLabel = await runCli(['fleet', '--label', 'tenant'], env)
  t.equal(badLabel.code, 2, 'a label that is not k:v is bad usage')

  const server = await startServer({ ...env, AUTH_DISABLED: 'true', MIGRATE_ON_START: 'false' })
  t.teardown(() => server.stop())
  const remoteTargets = await runCli(['targets', '--json', '--url', server.baseUrl], {})
  t.same(remoteTargets.json(), targets.json(), 'the service answers what the direct run read')
  const remoteFleet = await runCli(['fleet', '--json', '--url', server.baseUrl, '--label', 'tenant:b'], {})
  t.match(remoteFleet.json(), { summary: { total: 1 }, targets: [{ name: 'tenant-b', pending: Number }] })
  for (const run of [targets, table, fleet, fleetTable, remoteTargets, remoteFleet]) t.notMatch(run.stdout + run.stderr, password)
  await server.stop()
  t.notMatch(server.output(), password, 'the service\'s log never shows the password')
  t.match(server.output(), /"target":"gone"/, 'the unreachable target is named in the log')
})

t.test('a bad targets file stops the start with one line naming the entry', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'aip-schema-targets-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'targets.json')
  await writeFile(file, JSON.stringify({ environments: ['development', 'testing', 'production'], targets: [{ name: 'a', environment: 'prod', url: 'postgres://h/a' }] }))
  const { code, output } = await runServerToExit({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', AUTH_DISABLED: 'true', TARGETS_FILE: file })
  t.equal(code, 1)
  t.equal(output, 'aip-schema: TARGETS_FILE targets[0].environment: "prod" is not one of development, testing, production\n')
})
