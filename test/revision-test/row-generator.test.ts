import t from 'tap'
import type { ColumnDefinition, TableDefinition } from '../../src/catalog/schema.js'
import { constraintsOn, generateRows, insertOrder, valueFor, type GeneratedTable, type Row } from '../../src/revision-test/row-generator.js'

function column (name: string, type: string, options: Partial<ColumnDefinition> = {}): ColumnDefinition {
  return { name, type, nullable: false, default: null, ...options }
}

function table (name: string, columns: ColumnDefinition[], extra: Partial<TableDefinition> = {}): TableDefinition {
  return { name, columns, indexes: [], foreignKeys: [], checks: [], ...extra }
}

function references (name: string, columns: string[], target: string, targetColumns = ['id']) {
  return { name, columns, target: { table: target, columns: targetColumns }, onDelete: 'NO ACTION' as const, onUpdate: 'NO ACTION' as const, valid: true }
}

function rowsOf (result: ReturnType<typeof generateRows>): Row[] {
  if (!('rows' in result)) throw new Error(`skipped: ${result.reason}`)
  return (result as GeneratedTable).rows
}

// As PostgreSQL deparses `status IN (...)` on a varchar, and a two-sided bound.
const statusCheck = { name: 'ck_status', valid: true, definition: "CHECK (((status)::text = ANY ((ARRAY['pending'::character varying, 'running'::character varying, 'it''s done'::character varying])::text[])))" }
const scoreCheck = { name: 'ck_score', valid: true, definition: 'CHECK (((score >= 1) AND (score <= 5)))' }

const users = table('users', [column('id', 'uuid', { default: 'gen_random_uuid()' }), column('email', 'character varying(12)')])
const runs = table('runs', [
  column('id', 'bigint', { default: "nextval('runs_id_seq'::regclass)" }),
  column('user_id', 'uuid'),
  column('status', 'character varying(20)', { default: "'pending'::character varying" }),
  column('score', 'integer'),
  column('note', 'text', { nullable: true }),
], { foreignKeys: [references('fk_runs_user', ['user_id'], 'users')], checks: [statusCheck, scoreCheck] })

t.test('insertOrder puts every parent before its children, whatever the input order', async (t) => {
  const steps = table('steps', [column('run_id', 'bigint')], { foreignKeys: [references('fk', ['run_id'], 'runs')] })
  t.same(insertOrder([steps, runs, users]).map(({ name }) => name), ['users', 'runs', 'steps'])
})

t.test('insertOrder places tables of a foreign-key cycle and self-references rather than looping', async (t) => {
  const a = table('a', [column('b_id', 'integer')], { foreignKeys: [references('fk_a', ['b_id'], 'b')] })
  const b = table('b', [column('a_id', 'integer')], { foreignKeys: [references('fk_b', ['a_id'], 'a')] })
  const tree = table('tree', [column('parent_id', 'integer', { nullable: true })], { foreignKeys: [references('fk_tree', ['parent_id'], 'tree')] })
  t.same(insertOrder([b, tree, a]).map(({ name }) => name).sort(), ['a', 'b', 'tree'])
  t.same(insertOrder([tree]).map(({ name }) => name), ['tree'], 'a self-reference does not wait for itself')
})

t.test('constraintsOn reads IN lists (quotes included) and bounds as PostgreSQL deparses them', async (t) => {
  t.same(constraintsOn(runs, 'status'), { allowed: ['pending', 'running', "it's done"], min: null, max: null })
  t.same(constraintsOn(runs, 'score'), { allowed: null, min: 1, max: 5 })
  t.same(constraintsOn(runs, 'note'), { allowed: null, min: null, max: null }, 'a column no check names is free')
  const strict = table('x', [column('n', 'integer')], { checks: [{ name: 'c', valid: true, definition: 'CHECK ((n > 10))' }] })
  t.same(constraintsOn(strict, 'n'), { allowed: null, min: 11, max: null })
})

t.test('generateRows fills NOT NULL columns, obeys checks, and follows foreign keys to the parent rows given', async (t) => {
  const [parent] = rowsOf(generateRows(users, 0, 1, new Map()))
  const parents = new Map([['users', [{ ...parent, id: 'c0ffee00-0000-4000-8000-000000000001' }]]])
  const rows = rowsOf(generateRows(runs, 0, 4, parents))
  t.equal(rows.length, 4)
  for (const row of rows) {
    t.equal(row.user_id, 'c0ffee00-0000-4000-8000-000000000001', 'the foreign key takes the parent row\'s key')
    t.notOk('id' in row, 'a sequence-backed column is left to the database')
    t.ok(Number(row.score) >= 1 && Number(row.score) <= 5, `score ${String(row.score)} within the check`)
  }
  t.ok(rows.filter((_row, index) => index % 2 === 0).every((row) => ['pending', 'running', "it's done"].includes(row.status as string)), 'status from the IN list')
  t.ok(rows.filter((_row, index) => index % 2 === 1).every((row) => !('status' in row)), 'every other row leaves a defaulted column to its default')
  t.same(rows.map((row) => row.note === null), [false, true, false, true], 'a nullable column is NULL on every other row')
})

t.test('values are unique per fill and row, and respect a varchar length, so unique indexes hold across fills', async (t) => {
  const values = [0, 1, 2].flatMap((fill) => rowsOf(generateRows(users, fill, 3, new Map())))
  const emails = values.map((row) => row.email as string)
  t.equal(new Set(emails).size, emails.length)
  t.ok(emails.every((email) => email.length <= 12), emails.join(', '))
  const ids = values.map((row) => row.id).filter((id) => id !== undefined)
  t.equal(ids.length, 6, 'the defaulted id is given on every other row')
  t.equal(new Set(ids).size, ids.length, 'uuids are unique too')
})

t.test('generateRows says why it skips a table rather than producing rows the database must refuse', async (t) => {
  t.match(generateRows(runs, 0, 2, new Map()), { table: 'runs', reason: /no row of users to reference from user_id/ })
  const odd = table('odd', [column('shape', 'polygon')])
  t.match(generateRows(odd, 0, 1, new Map()), { table: 'odd', reason: /no value can be made for shape of type polygon/ })
  const optional = table('optional', [column('shape', 'polygon', { nullable: true }), column('owner_id', 'uuid', { nullable: true })],
    { foreignKeys: [references('fk', ['owner_id'], 'owners')] })
  t.same(rowsOf(generateRows(optional, 0, 1, new Map())), [{ owner_id: null }], 'nullable ones are left out or NULL instead')
})

t.test('an enum column takes its type\'s labels; a CHECK list on it still wins', async (t) => {
  const moods = table('moods', [column('mood', 'mood'), column('strict', 'mood')],
    { checks: [{ name: 'c', valid: true, definition: "CHECK ((strict = 'calm'::mood))" }, { name: 'd', valid: true, definition: "CHECK ((strict = ANY (ARRAY['busy'::mood])))" }] })
  const rows = rowsOf(generateRows(moods, 0, 3, new Map(), new Map([['mood', ['calm', 'busy']]])))
  t.ok(rows.every((row) => ['calm', 'busy'].includes(row.mood as string)), rows.map((row) => String(row.mood)).join(', '))
  t.ok(rows.every((row) => row.strict === 'busy'))
  t.match(generateRows(moods, 0, 1, new Map()), { reason: /no value can be made for mood of type mood/ }, 'without its labels it is skipped, said why')
})

t.test('valueFor gives each type a value PostgreSQL accepts for it', async (t) => {
  const free = { allowed: null, min: null, max: null }
  const place = { table: 't', fill: 2, index: 1 }
  const of = (type: string) => valueFor(column('c', type), free, place)
  t.equal(of('integer'), 202)
  t.equal(valueFor(column('c', 'smallint'), free, { table: 't', fill: 400, index: 0 }), 8001, 'smallint wraps before 32767')
  t.equal(of('double precision'), 202.5)
  t.equal(of('numeric(4,2)'), 2, 'numeric kept within its precision')
  t.equal(of('boolean'), false)
  t.match(of('uuid'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/)
  t.same(JSON.parse(of('jsonb') as string), { generated: true, fill: 2, row: 1 })
  t.ok(Buffer.isBuffer(of('bytea')))
  t.equal(of('timestamp with time zone'), '2024-01-01T03:22:00.000Z')
  t.equal(of('date'), '2024-07-21')
  t.same(of('integer[]'), [202])
  t.match(of('text[]'), [/^c-202-/])
  t.equal(of('point[]'), undefined, 'nor an array of a type it does not know')
  t.equal(of('tsvector'), undefined)
})
