import t from 'tap'
import { archivingOf } from '../../../src/migrator/index.js'

t.test('DDL that destroys: the table, and the columns when only some go', async (t) => {
  t.same(archivingOf('DROP TABLE IF EXISTS a, "B".c').destroys.map((d) => [d.kind, d.table, d.columns]), [['drop-table', 'a', null], ['drop-table', '"B".c', null]])
  t.same(archivingOf('TRUNCATE TABLE ONLY a').destroys.map((d) => d.kind), ['truncate'])
  const alter = archivingOf('ALTER TABLE preprocessing_steps\n DROP COLUMN IF EXISTS fitted_transformer,\n DROP COLUMN "Is_Active", DROP CONSTRAINT x')
  t.same(alter.destroys, [{ kind: 'drop-column', table: 'preprocessing_steps', columns: ['fitted_transformer', 'Is_Active'], where: null, alias: null }])
  t.same(archivingOf('ALTER TABLE t ALTER COLUMN c TYPE integer USING c::integer').destroys.map((d) => [d.kind, d.columns]), [['type-change', ['c']]])
})

t.test('what a statement re-creates', async (t) => {
  t.same(archivingOf('CREATE TABLE IF NOT EXISTS notes (id int)').createsTables, ['notes'])
  t.same(archivingOf('ALTER TABLE t ADD COLUMN IF NOT EXISTS c int, ADD d text').addsColumnsTo, ['t'])
  t.same(archivingOf('ALTER TABLE t ADD CONSTRAINT k UNIQUE (c)').addsColumnsTo, [], 'a constraint adds no column')
  t.same(archivingOf('CREATE INDEX i ON t (c)'), { destroys: [], createsTables: [], addsColumnsTo: [], optOut: null })
})

t.test('UPDATE: the SET columns of the rows its WHERE matches; unclear rows archive the whole table', async (t) => {
  t.same(archivingOf("UPDATE ONLY runs r SET (a, \"B\") = (1, 2), c = 'x, y' WHERE r.id < 10 AND note = 'from'").destroys,
    [{ kind: 'update', table: 'runs', columns: ['a', 'B', 'c'], where: "r.id < 10 AND note = 'from'", alias: 'r' }])
  t.same(archivingOf('UPDATE runs SET a = 1').destroys[0]?.where, null, 'every row')
  t.same(archivingOf("UPDATE runs SET t = m ->> 'k' WHERE t IS NOT DISTINCT FROM NULL OR t IS DISTINCT FROM m ->> 'k'").destroys[0]?.columns, ['t'],
    'IS DISTINCT FROM compares: still the SET columns of a plain WHERE')
  t.same(archivingOf('UPDATE runs SET a = o.a FROM other o WHERE o.id = runs.id').destroys,
    [{ kind: 'update', table: 'runs', columns: null, where: null, alias: null }], 'a FROM clause: whole rows of every row')
})

t.test('DELETE: whole rows of its WHERE', async (t) => {
  t.same(archivingOf('DELETE FROM runs WHERE id > 3').destroys, [{ kind: 'delete', table: 'runs', columns: null, where: 'id > 3', alias: null }])
  t.same(archivingOf('DELETE FROM runs USING other WHERE other.id = runs.id').destroys[0]?.where, null, 'USING: the whole table')
})

t.test('opaque statements archive nothing; an opt-out needs a reason', async (t) => {
  t.same(archivingOf('DO $$ BEGIN DROP TABLE t; END $$').destroys, [])
  t.equal(archivingOf('-- archive: false rebuilt nightly from the lake\nTRUNCATE cache').optOut, 'rebuilt nightly from the lake')
  t.equal(archivingOf('-- archive: false\nTRUNCATE cache').optOut, null, 'no reason: archived anyway')
})
