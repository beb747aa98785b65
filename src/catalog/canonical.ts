import type { IndexDefinition } from './schema.js'

const literal = /'(?:[^']|'')*'/g
const placeholder = /'(\d+)'/g
const textCasts = /::(?:character varying|text)(?:\[\])?/g
/** An identifier, a literal or a flat array, alone in parentheses that are no function call's. */
const parenthesisedAtom = /(?<![\w$"])\(([\w$]+|'\d+'|"(?:[^"]|"")*"|ARRAY\[[^[\]]*\])\)/g
const tableQualifier = /( ON (?:ONLY )?)(?:[\w$]+|"(?:[^"]|"")+")\./

/**
 * What a CHECK means, not how this server prints it: `status IN ('a', 'b')` on a varchar
 * deparses with its casts in one place when created by DDL and in another once it has been
 * through pg_dump and back (an Alembic-made database), with other parentheses.
 */
export function canonicalCheck (definition: string): string {
  // Literals stand aside as numbered placeholders, so nothing inside one is rewritten.
  const literals: string[] = []
  let text = definition.replace(literal, (match) => `'${literals.push(match) - 1}'`).replace(textCasts, '')
  for (let previous = ''; previous !== text;) {
    previous = text
    text = text.replace(parenthesisedAtom, '$1')
  }
  return text.replace(/\s+/g, ' ').replace(placeholder, (_match, index: string) => literals[Number(index)] ?? '')
}

/** `pg_get_indexdef` always qualifies the table with its schema; which schema is no part of the index. */
export function canonicalIndex (index: IndexDefinition): string {
  return JSON.stringify({ ...index, definition: index.definition.replace(tableQualifier, '$1') })
}
