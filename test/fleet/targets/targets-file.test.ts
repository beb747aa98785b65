/* eslint-disable no-template-curly-in-string -- `${VAR}` is the targets file's own syntax under test */
import t from 'tap'
import { parseTargetsFile, readTargetsFile } from '../../../src/fleet/targets/targets-file.js'
import { TargetsFileError } from '../../../src/fleet/targets/errors.js'
import { ConfigError } from '../../../src/config-error.js'
import { loadMigrationSettings } from '../../../src/config.js'

const env = { DEV_URL: 'postgres://app:dev-secret@db-dev:5432/app', PROD_URL: 'postgres://app:prod-secret@db-prod:5432/app', CATALOG_URL: 'postgres://cat@db-cat/catalog' }

const contractExample = `
environments: [development, testing, production]
self: { name: home, environment: development }
targets:
  - { name: dev, environment: development, url: "\${DEV_URL}", labels: { region: eu } }
  - { name: tenant-a, environment: production, url: "\${PROD_URL}", schema: tenant_a, labels: { tenant: a } }
groups:
  - name: tenants
    environment: production
    url: "\${PROD_URL}"
    discover: { url: "\${CATALOG_URL}", query: "select name, schema, labels from tenants", refreshMs: 60000 }
`

t.test('the contract\'s example reads, its ${VAR}s replaced from the environment', async (t) => {
  const file = parseTargetsFile(contractExample, env)
  t.same(file.environments, ['development', 'testing', 'production'])
  t.same(file.self, { name: 'home', environment: 'development' })
  t.same(file.targets, [
    { name: 'dev', environment: 'development', url: env.DEV_URL, migrationUrl: null, schema: null, labels: { region: 'eu' } },
    { name: 'tenant-a', environment: 'production', url: env.PROD_URL, migrationUrl: null, schema: 'tenant_a', labels: { tenant: 'a' } },
  ])
  t.same(file.groups, [{ name: 'tenants', environment: 'production', url: env.PROD_URL, migrationUrl: null, labels: {}, discover: { url: env.CATALOG_URL, query: 'select name, schema, labels from tenants', refreshMs: 60000 } }])
})

t.test('JSON reads as well, and self defaults to the first environment', async (t) => {
  const file = parseTargetsFile(JSON.stringify({ environments: ['staging', 'production'], targets: [{ name: 'x', environment: 'production', url: 'postgres://h/x' }] }), {})
  t.same(file.self, { name: 'self', environment: 'staging' })
  t.equal(file.targets[0]?.name, 'x')
})

t.test('each bad entry stops with one line naming it', async (t) => {
  const target = (fields: Record<string, unknown>) => JSON.stringify({ environments: ['development', 'testing', 'production'], targets: [{ name: 'a', environment: 'development', url: 'postgres://h/a' }, { name: 'b', environment: 'development', url: 'postgres://h/b' }, { name: 'c', environment: 'development', url: 'postgres://h/c', ...fields }] })
  const cases: Array<[string, string, NodeJS.ProcessEnv]> = [
    [target({ environment: 'prod' }), 'TARGETS_FILE targets[2].environment: "prod" is not one of development, testing, production', {}],
    [target({ url: '${MISSING_URL}' }), 'TARGETS_FILE targets[2].url: ${MISSING_URL} is not set in the environment', {}],
    [target({ url: '${EMPTY_URL}' }), 'TARGETS_FILE targets[2].url: ${EMPTY_URL} is not set in the environment', { EMPTY_URL: '' }],
    [target({ name: 'a' }), 'TARGETS_FILE targets[2].name: "a" is already the name of targets[0]', {}],
    [target({ name: 'self' }), 'TARGETS_FILE targets[2].name: "self" is already the name of self.name', {}],
    [target({ schema: 'Robert"; DROP TABLE x' }), 'TARGETS_FILE targets[2].schema: "Robert\\"; DROP TABLE x" is not a schema name (lower-case letters, digits, _ $; at most 63)', {}],
    [target({ url: 'mysql://h/c' }), 'TARGETS_FILE targets[2].url: must be a postgres:// URL, not mysql://', {}],
    [target({ url: 'not a url with a s3cret' }), 'TARGETS_FILE targets[2].url: is not a URL (its value is not shown: it may hold a password)', {}],
    [target({ colour: 'blue' }), 'TARGETS_FILE targets[2]: "colour" is not one of name, environment, url, migrationUrl, schema, labels', {}],
    [target({ labels: { tenant: { nested: true } } }), 'TARGETS_FILE targets[2].labels.tenant: must be a string', {}],
    ['environments: [a, a]', 'TARGETS_FILE environments: "a" is listed twice', {}],
    ['environments: []', 'TARGETS_FILE environments: must be a non-empty list of names, in promotion order', {}],
    ['targets: {}', 'TARGETS_FILE targets: must be a list', {}],
    ['environments: [a]\ngroups: [{ name: g, environment: a, discover: { url: "postgres://h/c", query: "select 1", refreshMs: 10 } }]', 'TARGETS_FILE groups[0].discover.refreshMs: must be an integer of at least 1000', {}],
    ['environments: [a]\ngroups: [{ name: g, environment: a, discover: { url: "postgres://h/c" } }]', 'TARGETS_FILE groups[0].discover.query: must be a SQL query returning name, and optionally url, schema, labels', {}],
    ['environments: [a', 'TARGETS_FILE (file): is not YAML or JSON', {}],
    ['- just a list', 'TARGETS_FILE (file): must be a mapping', {}],
  ]
  for (const [text, message, given] of cases) {
    const error = errorOf(() => parseTargetsFile(text, given))
    t.ok(error instanceof TargetsFileError && error instanceof ConfigError, 'a ConfigError: the start stops with its one line')
    t.ok(error.message.startsWith(message), `${error.message}`)
    t.notMatch(error.message, /\n/, 'one line')
    t.notMatch(error.message, /s3cret/, 'no URL value in the message')
  }
})

t.test('TARGETS_FILE is read at start: a bad file is a ConfigError, a missing one names the path', async (t) => {
  t.throws(() => readTargetsFile('/nonexistent/targets.yaml', {}), { message: 'TARGETS_FILE /nonexistent/targets.yaml: cannot be read (ENOENT)' })
  t.throws(() => loadMigrationSettings({ TARGETS_FILE: '/nonexistent/targets.yaml' }), ConfigError)
  t.equal(loadMigrationSettings({}).targets, null, 'no TARGETS_FILE: no targets, nothing else changes')
})

function errorOf (fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}
