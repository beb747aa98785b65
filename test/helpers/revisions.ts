import type { TAP } from 'tap'
import type { Revision } from '../../src/migrator/index.js'

let sequence = 0

/** An in-memory revision for graph tests: no SQL, a create date in declaration order. */
export function rev (id: string, down: string[] = [], extra: Partial<Revision> = {}): Revision {
  sequence++
  return {
    revision: id,
    downRevisions: down,
    description: `revision ${id}`,
    createDate: new Date(Date.UTC(2025, 0, 1, 0, 0, sequence)).toISOString(),
    transactional: true,
    breaking: false,
    up: [],
    down: [],
    file: `${id}.ts`,
    checksum: 'x',
    ...extra,
  }
}

/** What `fn` throws, asserted with `t.throws` to be a `type`, so a test can check its fields. */
export function thrown<E extends Error> (t: Pick<TAP, 'throws'>, fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  const error = t.throws(fn, type)
  if (error instanceof type) return error
  throw new Error(`expected ${type.name} to be thrown`)
}
