import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import t from 'tap'
import type { RevisionDefinition } from '../../src/migrator/index.js'
import { moduleSource } from '../../src/authoring/revision-module.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

const definition: RevisionDefinition = {
  revision: 'abcdef012345',
  downRevisions: ['0123456789ab'],
  description: "the widgets' table",
  createDate: '2026-01-01T00:00:00.000Z',
  transactional: false,
  breaking: true,
  up: [
    "ALTER TABLE t ALTER COLUMN c SET DEFAULT 'x'::text",
    'ALTER TABLE "order" ALTER COLUMN c SET DEFAULT \'y\'::text',
    'CREATE INDEX ix ON t (c)',
    // A backtick, a placeholder's opening and a backslash: what a template literal must escape.
    `DO $$\n    BEGIN\n      RAISE NOTICE '\`${'$'}{a}\` \\n';\n    END $$`,
  ],
  down: [],
}

/** The module evaluated as written, its import of the engine stood in for. */
async function evaluate (source: string): Promise<unknown> {
  const body = source.replace("import { defineRevision } from '../migrator/revision.js'", 'const defineRevision = (definition) => definition')
  return ((await import(`data:text/javascript,${encodeURIComponent(body)}`)) as { default: unknown }).default
}

t.test('a module holds exactly the SQL it was given, whatever quotes the SQL has', async (t) => {
  t.same(await evaluate(moduleSource(definition, ['BREAKING: drops column t.c', 'a comment that tries to end */ early'])), definition)
})

t.test('it passes the project lint as written, comment and all', async (t) => {
  const source = moduleSource(definition, ['BREAKING: drops column t.c', 'a comment that tries to end */ early'])
  const [result] = await new ESLint({ cwd: root }).lintText(source, { filePath: join(root, 'src', 'migrations', 'abcdef012345_widgets.ts') })
  t.same(result?.messages.map((message) => `${message.line}:${message.column} ${message.ruleId ?? ''} ${message.message}`), [])
  t.match(source, "    \"ALTER TABLE t ALTER COLUMN c SET DEFAULT 'x'::text\",\n", 'double quotes spare escaping the single ones')
  t.match(source, '\n * a comment that tries to end * / early\n', 'a comment cannot be ended early')
  t.match(source, 'transactional: false,\n  breaking: true,\n')
})

t.test('the defaults are left out', async (t) => {
  const source = moduleSource({ ...definition, transactional: true, breaking: false })
  t.notMatch(source, /transactional|breaking|\/\*/)
})
