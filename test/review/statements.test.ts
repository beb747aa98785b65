import t from 'tap'
import { analyseStatement } from '../../src/review/statements.js'
import { isNarrowing } from '../../src/review/types-narrowing.js'

t.test('each DDL statement names its table and the lock it takes', async (t) => {
  const cases: Array<[string, string | null, string | null]> = [
    ['CREATE INDEX ix ON model_runs (status)', 'model_runs', 'SHARE'],
    ['CREATE UNIQUE INDEX IF NOT EXISTS ix ON ONLY public.model_runs (status)', 'public.model_runs', 'SHARE'],
    ['CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON "Model Runs" (status)', '"Model Runs"', 'SHARE UPDATE EXCLUSIVE'],
    ['DROP INDEX ix_model_runs_status', 'ix_model_runs_status', 'ACCESS EXCLUSIVE'],
    ['DROP INDEX CONCURRENTLY IF EXISTS ix_model_runs_status', 'ix_model_runs_status', 'SHARE UPDATE EXCLUSIVE'],
    ['ALTER TABLE model_runs VALIDATE CONSTRAINT ck', 'model_runs', 'SHARE UPDATE EXCLUSIVE'],
    ['ALTER TABLE model_runs ADD CONSTRAINT fk FOREIGN KEY (experiment_id) REFERENCES experiments (id) NOT VALID', 'model_runs', 'SHARE ROW EXCLUSIVE'],
    ['ALTER TABLE IF EXISTS ONLY model_runs VALIDATE CONSTRAINT a, ADD COLUMN b int', 'model_runs', 'ACCESS EXCLUSIVE'],
    ['-- a comment\nVACUUM FULL model_runs', 'model_runs', 'ACCESS EXCLUSIVE'],
    ['UPDATE model_runs SET status = \'done\'', 'model_runs', 'ROW EXCLUSIVE'],
    ['CREATE TABLE t (id int)', null, null],
    ['SELECT 1', null, null],
  ]
  for (const [sql, table, lock] of cases) {
    const [target] = analyseStatement(sql).targets
    t.same([target?.table ?? null, target?.lock ?? null], [table, lock], sql)
  }
  t.same(analyseStatement('CREATE TABLE IF NOT EXISTS run_notes (id int)').creates, ['run_notes'])
  t.equal(analyseStatement('DROP INDEX ix').targets[0]?.isIndex, true, 'an index: its table\'s facts are looked up')
})

t.test('what a statement would lose', async (t) => {
  t.same(analyseStatement('DROP TABLE IF EXISTS a, public.b').targets.map((target) => [target.table, target.destructive]), [['a', [{ kind: 'drop-table' }]], ['public.b', [{ kind: 'drop-table' }]]])
  t.same(analyseStatement('TRUNCATE TABLE a').targets[0]?.destructive, [{ kind: 'truncate' }])
  t.same(analyseStatement('ALTER TABLE m DROP COLUMN IF EXISTS "Notes", DROP CONSTRAINT ck, ALTER COLUMN kind TYPE varchar(20) USING kind::varchar(20)').targets[0]?.destructive, [
    { kind: 'drop-column', column: 'Notes' },
    { kind: 'type-change', column: 'kind', type: 'varchar(20)' },
  ])
})

t.test('DO blocks and dynamic SQL are opaque', async (t) => {
  t.equal(analyseStatement('DO $$ BEGIN DROP TABLE users; END $$').opaque, true)
  t.equal(analyseStatement('do $body$ begin null; end $body$').opaque, true)
  t.equal(analyseStatement("CREATE FUNCTION f() RETURNS void AS $$ BEGIN EXECUTE 'DROP TABLE x'; END $$ LANGUAGE plpgsql").opaque, true)
  t.equal(analyseStatement('CREATE INDEX ix ON documents (title)').opaque, false)
})

t.test('narrowing type changes', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['character varying(100)', 'varchar(50)', true],
    ['character varying(50)', 'varchar(100)', false],
    ['text', 'varchar(255)', true],
    ['character varying(20)', 'text', false],
    ['bigint', 'integer', true],
    ['integer', 'bigint', false],
    ['double precision', 'integer', true],
    ['timestamp with time zone', 'date', true],
    ['jsonb', 'text', false],
    ['text', 'jsonb', true],
  ]
  for (const [from, to, narrowing] of cases) t.equal(isNarrowing(from, to), narrowing, `${from} -> ${to}`)
})
