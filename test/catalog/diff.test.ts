import t from 'tap'
import { canonicalCheck } from '../../src/catalog/canonical.js'
import { diffSchemas } from '../../src/catalog/diff.js'
import type { ColumnDefinition, IndexDefinition, SchemaDefinition, TableDefinition } from '../../src/catalog/schema.js'

const column = (name: string, type = 'uuid', nullable = false, defaultValue: string | null = null): ColumnDefinition =>
  ({ name, type, nullable, default: defaultValue })

const index = (name: string, table: string, columns: string[], extra: Partial<IndexDefinition> = {}): IndexDefinition => ({
  name,
  columns,
  unique: false,
  primary: false,
  method: 'btree',
  predicate: null,
  valid: true,
  definition: `CREATE INDEX ${name} ON public.${table} USING btree (${columns.join(', ')})`,
  ...extra,
})

const statusCheck = "CHECK (((status)::text = ANY ((ARRAY['pending'::character varying, 'running'::character varying])::text[])))"
/** The same constraint as pg_dump and a reload leave it: casts elsewhere, other parentheses. */
const reloadedStatusCheck = "CHECK (((status)::text = ANY (ARRAY[('pending'::character varying)::text, ('running'::character varying)::text])))"

function users (): TableDefinition {
  return {
    name: 'users',
    columns: [column('id', 'uuid', false, 'gen_random_uuid()'), column('email', 'character varying(255)')],
    indexes: [index('users_pkey', 'users', ['id'], { unique: true, primary: true }), index('ix_users_email', 'users', ['email'], { unique: true })],
    foreignKeys: [],
    checks: [],
  }
}

function runs (): TableDefinition {
  return {
    name: 'runs',
    columns: [column('id'), column('user_id'), column('status', 'character varying(20)', false, "'pending'::character varying")],
    indexes: [index('ix_runs_user_id', 'runs', ['user_id'])],
    foreignKeys: [{ name: 'runs_user_id_fkey', columns: ['user_id'], target: { table: 'users', columns: ['id'] }, onDelete: 'CASCADE', onUpdate: 'NO ACTION', valid: true }],
    checks: [{ name: 'ck_runs_status', definition: statusCheck, valid: true }],
  }
}

const expected: SchemaDefinition = { tables: [runs(), users()] }

function live (change: (tables: { runs: TableDefinition, users: TableDefinition }) => TableDefinition[]): SchemaDefinition {
  return { tables: change({ runs: runs(), users: users() }) }
}

t.test('the same schema has no differences, whatever the order it was read in', async (t) => {
  t.same(diffSchemas(expected, expected), [])
  t.same(diffSchemas(expected, live(({ runs, users }) => [users, { ...runs, columns: [...runs.columns].reverse() }])), [], 'column positions do not matter')
})

t.test('a missing and an extra table, each listed once, not column by column', async (t) => {
  const notes: TableDefinition = { name: 'notes', columns: [column('id')], indexes: [], foreignKeys: [], checks: [] }
  t.same(diffSchemas(expected, live(({ runs }) => [runs, notes])), [
    { kind: 'extra', object: 'table', table: 'notes', name: 'notes', expected: null, actual: notes, detail: 'table notes is not in the expected schema' },
    { kind: 'missing', object: 'table', table: 'users', name: 'users', expected: users(), actual: null, detail: 'table users is missing' },
  ])
})

t.test('columns: missing, extra, and a change of type, nullability and default each named on its own', async (t) => {
  const differences = diffSchemas(expected, live(({ runs, users }) => [{
    ...runs,
    columns: [
      column('id', 'bigint'),
      column('status', 'character varying(20)', true, "'running'::character varying"),
      column('note', 'text', true),
    ],
  }, users]))
  t.same(differences, [
    { kind: 'changed', object: 'type', table: 'runs', name: 'id', expected: 'uuid', actual: 'bigint', detail: 'column runs.id has type bigint, expected uuid' },
    { kind: 'extra', object: 'column', table: 'runs', name: 'note', expected: null, actual: column('note', 'text', true), detail: 'column runs.note is not in the expected schema' },
    { kind: 'changed', object: 'nullability', table: 'runs', name: 'status', expected: false, actual: true, detail: 'column runs.status is nullable, expected NOT NULL' },
    {
      kind: 'changed',
      object: 'default',
      table: 'runs',
      name: 'status',
      expected: "'pending'::character varying",
      actual: "'running'::character varying",
      detail: "column runs.status has default 'running'::character varying, expected 'pending'::character varying",
    },
    { kind: 'missing', object: 'column', table: 'runs', name: 'user_id', expected: column('user_id'), actual: null, detail: 'column runs.user_id is missing' },
  ])
})

t.test('a default dropped and one added where none was expected', async (t) => {
  const differences = diffSchemas(expected, live(({ runs, users }) => [runs, {
    ...users,
    columns: [column('id'), column('email', 'character varying(255)', false, "''::character varying")],
  }]))
  t.same(differences.map((difference) => difference.detail), [
    "column users.email has default ''::character varying, expected none",
    'column users.id has default none, expected gen_random_uuid()',
  ])
})

t.test('indexes: dropped, added, changed, and left invalid by a failed concurrent build', async (t) => {
  const differences = diffSchemas(expected, live(({ runs, users }) => [
    { ...runs, indexes: [{ ...runs.indexes[0] as IndexDefinition, valid: false }, index('ix_runs_status', 'runs', ['status'])] },
    { ...users, indexes: [users.indexes[0] as IndexDefinition, index('ix_users_email', 'users', ['email'])] },
  ]))
  t.same(differences.map(({ kind, object, table, name }) => ({ kind, object, table, name })), [
    { kind: 'extra', object: 'index', table: 'runs', name: 'ix_runs_status' },
    { kind: 'changed', object: 'index', table: 'runs', name: 'ix_runs_user_id' },
    { kind: 'changed', object: 'index', table: 'users', name: 'ix_users_email' },
  ])
  t.match(differences[1]?.detail, /^index ix_runs_user_id on runs is CREATE INDEX .* \(invalid: a failed CREATE INDEX CONCURRENTLY leaves one\), expected CREATE INDEX/)
  t.same(differences[2]?.expected, users().indexes[1])
  t.same((differences[2]?.actual as IndexDefinition).unique, false, 'the index lost its uniqueness')

  const dropped = diffSchemas(expected, live(({ runs, users }) => [{ ...runs, indexes: [] }, users]))
  t.same(dropped, [{
    kind: 'missing', object: 'index', table: 'runs', name: 'ix_runs_user_id', expected: runs().indexes[0], actual: null, detail: 'index ix_runs_user_id on runs is missing',
  }])
})

t.test('an index on a table of another schema is the same index', async (t) => {
  const elsewhere = live(({ runs, users }) => [runs, {
    ...users,
    indexes: users.indexes.map((entry) => ({ ...entry, definition: entry.definition.replace(' ON public.', ' ON "App Schema".') })),
  }])
  t.same(diffSchemas(expected, elsewhere), [])
})

t.test('foreign keys: a changed ON DELETE, one left NOT VALID, a missing and an extra one', async (t) => {
  const [key] = runs().foreignKeys
  if (key === undefined) throw new Error('runs has a foreign key')
  const setNull = diffSchemas(expected, live(({ runs, users }) => [{ ...runs, foreignKeys: [{ ...key, onDelete: 'SET NULL' }] }, users]))
  t.same(setNull, [{
    kind: 'changed',
    object: 'foreignKey',
    table: 'runs',
    name: 'runs_user_id_fkey',
    expected: key,
    actual: { ...key, onDelete: 'SET NULL' },
    detail: 'foreign key runs_user_id_fkey on runs is FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL ON UPDATE NO ACTION, ' +
      'expected FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE NO ACTION',
  }])
  const notValid = diffSchemas(expected, live(({ runs, users }) => [{ ...runs, foreignKeys: [{ ...key, valid: false }] }, users]))
  t.match(notValid, [{ kind: 'changed', object: 'foreignKey', detail: /ON UPDATE NO ACTION NOT VALID, expected/ }])
  const renamed = diffSchemas(expected, live(({ runs, users }) => [{ ...runs, foreignKeys: [{ ...key, name: 'runs_user_fk' }] }, users]))
  t.same(renamed.map(({ kind, name }) => [kind, name]), [['extra', 'runs_user_fk'], ['missing', 'runs_user_id_fkey']])
})

t.test('checks: compared by meaning, so a reloaded deparse is no difference and a new value is', async (t) => {
  const [check] = runs().checks
  if (check === undefined) throw new Error('runs has a check')
  t.same(diffSchemas(expected, live(({ runs, users }) => [{ ...runs, checks: [{ ...check, definition: reloadedStatusCheck }] }, users])), [])
  const widened = { ...check, definition: statusCheck.replace("'running'", "'running'::character varying, 'done'") }
  t.match(diffSchemas(expected, live(({ runs, users }) => [{ ...runs, checks: [widened] }, users])), [{
    kind: 'changed', object: 'check', table: 'runs', name: 'ck_runs_status', expected: check, actual: widened,
  }])
  const unvalidated = diffSchemas(expected, live(({ runs, users }) => [{ ...runs, checks: [{ ...check, definition: `${statusCheck} NOT VALID`, valid: false }] }, users]))
  t.equal(unvalidated.length, 1, 'a check never validated differs from a validated one')
  t.same(diffSchemas(expected, live(({ runs, users }) => [{ ...runs, checks: [] }, users])).map(({ kind, object }) => [kind, object]), [['missing', 'check']])
})

t.test('canonical checks keep what changes the meaning', async (t) => {
  t.equal(canonicalCheck(statusCheck), canonicalCheck(reloadedStatusCheck))
  t.equal(canonicalCheck(statusCheck), "CHECK ((status = ANY ARRAY['pending', 'running']))")
  t.not(canonicalCheck('CHECK ((a > 0) OR (b > 0))'), canonicalCheck('CHECK ((a > 0) AND (b > 0))'))
  t.not(canonicalCheck('CHECK ((lower(email) = email))'), canonicalCheck('CHECK ((loweremail = email))'), 'a function call keeps its parentheses')
  t.equal(canonicalCheck("CHECK ((note <> 'it''s (fine)'::text))"), "CHECK ((note <> 'it''s (fine)'))", 'quoted text is left as it is')
})
