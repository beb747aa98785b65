/**
 * Whether changing a column from `from` (as `format_type` writes it) to `to` (as a revision
 * writes it) can lose or refuse values: a shorter length, a smaller number type, another family.
 * Anything to unbounded text keeps every value.
 */
export function isNarrowing (from: string, to: string): boolean {
  const before = classify(from)
  const after = classify(to)
  if (after.family === 'text' && after.length === null) return false
  if (before.family !== after.family) return true
  if (after.family === 'text') return before.length === null || (after.length ?? Infinity) < before.length
  if (after.family === 'number') return after.rank < before.rank
  if (after.family === 'time') return after.rank < before.rank
  return before.name !== after.name
}

interface TypeClass {
  readonly family: 'text' | 'number' | 'time' | 'other'
  readonly name: string
  readonly length: number | null
  readonly rank: number
}

/** Each family's types, narrowest first; spellings of one type share a rank. */
const numberRanks = ranks([['smallint', 'int2'], ['integer', 'int', 'int4'], ['bigint', 'int8'], ['real', 'float4'], ['double precision', 'float8'], ['numeric', 'decimal']])
const timeRanks = ranks([['date'], ['timestamp', 'timestamp without time zone', 'timestamptz', 'timestamp with time zone']])

function ranks (groups: ReadonlyArray<readonly string[]>): Record<string, number> {
  return Object.fromEntries(groups.flatMap((names, rank) => names.map((name) => [name, rank + 1])))
}

function classify (type: string): TypeClass {
  const text = type.trim().toLowerCase().replace(/\s+/g, ' ')
  const sized = /^(character varying|varchar|character|char|bpchar)\s*\(\s*(\d+)\s*\)$/.exec(text)
  if (sized !== null) return { family: 'text', name: 'text', length: Number(sized[2]), rank: 0 }
  if (text === 'text' || text === 'varchar' || text === 'character varying') return { family: 'text', name: 'text', length: null, rank: 0 }
  const base = text.replace(/\s*\(.*\)$/, '')
  const numberRank = numberRanks[base]
  if (numberRank !== undefined) return { family: 'number', name: base, length: null, rank: numberRank }
  const timeRank = timeRanks[base]
  if (timeRank !== undefined) return { family: 'time', name: base, length: null, rank: timeRank }
  return { family: 'other', name: text, length: null, rank: 0 }
}
