/**
 * Reading a revision's SQL as text, shared by the archiving of what a statement destroys and by
 * the plan's review of what it locks: both must read a statement the same way.
 */

/** Commas outside parentheses and quotes separate `ALTER TABLE` actions, `SET` assignments and lists. */
export function splitTopLevel (text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quote: string | null = null
  let start = 0
  for (let index = 0; index < text.length; index++) {
    const char = text[index]
    if (quote !== null) {
      if (char === quote) quote = null
    } else if (char === '\'' || char === '"') {
      quote = char
    } else if (char === '(') {
      depth++
    } else if (char === ')') {
      depth--
    } else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, index).trim())
      start = index + 1
    }
  }
  parts.push(text.slice(start).trim())
  return parts.filter((part) => part !== '')
}

/** `a . "B"` as `a."B"`: a qualified name written one way. */
export function normalisedName (name: string): string {
  return name.replace(/\s*\.\s*/g, '.')
}

/** The names of a comma-separated list (`DROP TABLE a, b.c`), each written one way. */
export function nameList (list: string): string[] {
  return splitTopLevel(list).map(normalisedName)
}

/** An identifier as PostgreSQL folds it: a quoted one as written, an unquoted one lower-cased. */
export function unquote (name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase()
}

export function withoutComments (sql: string): string {
  return sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' ')
}
