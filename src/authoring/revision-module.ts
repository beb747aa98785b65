import { isBackfill, type BackfillStep, type RevisionDefinition, type RevisionStep } from '../migrator/index.js'

/**
 * The source of a module in the shape of src/migrations: frozen SQL, readable, and passing the
 * project's lint as written. `header` becomes the comment above it, a line per entry.
 */
export function moduleSource (definition: RevisionDefinition, header: readonly string[] = []): string {
  const list = (items: readonly string[]) => `[${items.map(quote).join(', ')}]`
  const statements = (items: readonly RevisionStep[]) => items.map((item) => `    ${isBackfill(item) ? backfillSource(item.backfill) : quoteStatement(item)},\n`).join('')
  const comment = header.length === 0 ? '' : `/*\n${header.map((line) => ` * ${line.replace(/\*\//g, '* /')}`.trimEnd()).join('\n')}\n */\n`
  return `import { defineRevision } from '../migrator/revision.js'

${comment}export default defineRevision({
  revision: ${quote(definition.revision)},
  downRevisions: ${list(definition.downRevisions)},
  description: ${quote(definition.description)},
  createDate: ${quote(definition.createDate)},
${definition.transactional === false ? '  transactional: false,\n' : ''}${definition.breaking === true ? '  breaking: true,\n' : ''}  up: [
${statements(definition.up)}  ],
  down: [
${statements(definition.down)}  ],
})
`
}

/** A string literal the lint accepts: a template for several lines, else single quotes. */
function quote (text: string): string {
  if (text.includes('\n')) return `\`${text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/** SQL is full of single quotes: double quotes spare escaping them, as the lint allows. */
function quoteStatement (text: string): string {
  if (text.includes('\n') || !text.includes("'") || text.includes('"')) return quote(text)
  return `"${text.replace(/\\/g, '\\\\')}"`
}

/** A backfill step as an object literal, its SQL fragments quoted as statements are. */
function backfillSource (backfill: BackfillStep): string {
  const fields = Object.entries(backfill).map(([name, value]) => `      ${name}: ${typeof value === 'number' ? String(value) : quoteStatement(String(value))},\n`).join('')
  return `{\n      backfill: {\n${fields.replace(/^ {6}/gm, '        ')}      },\n    }`
}
