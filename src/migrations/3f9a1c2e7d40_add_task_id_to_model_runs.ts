import { defineRevision } from '../migrator/revision.js'

/*
 * Celery's task id, kept in `model_runs.metadata` as `{"task_id": ...}`, as a column an ML
 * backend can look runs up by. Expand only, the pgroll way: the column, then a trigger that
 * sets it from `metadata` on every insert and update (so rows the older release writes during
 * and after the backfill are right too), then the existing rows in keyset batches, then the
 * index, built CONCURRENTLY. Every step can run again after a cut-off: the column and trigger
 * are made only if missing, the backfill resumes from its checkpoint and its predicate selects
 * only rows still to do, and an index a failed build left INVALID is dropped first.
 */
export default defineRevision({
  revision: '3f9a1c2e7d40',
  downRevisions: ['505acae0b257'],
  description: 'add task_id to model_runs',
  createDate: '2026-12-05T17:10:00.000Z',
  transactional: false,
  up: [
    'ALTER TABLE model_runs ADD COLUMN IF NOT EXISTS task_id varchar(255)',
    `CREATE OR REPLACE FUNCTION model_runs_task_id_from_metadata() RETURNS trigger
      LANGUAGE plpgsql AS $$
    BEGIN
      NEW.task_id := NEW.metadata ->> 'task_id';
      RETURN NEW;
    END $$`,
    'CREATE OR REPLACE TRIGGER model_runs_task_id_from_metadata BEFORE INSERT OR UPDATE ON model_runs FOR EACH ROW EXECUTE FUNCTION model_runs_task_id_from_metadata()',
    {
      backfill: {
        table: 'model_runs',
        set: "task_id = metadata ->> 'task_id'",
        where: "task_id IS DISTINCT FROM metadata ->> 'task_id'",
        targetBatchMs: 50,
      },
    },
    `DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('ix_model_runs_task_id_created_at_id') AND NOT indisvalid) THEN
        DROP INDEX ix_model_runs_task_id_created_at_id;
      END IF;
    END $$`,
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_model_runs_task_id_created_at_id ON model_runs (task_id, created_at DESC, id DESC)',
  ],
  down: [
    'DROP INDEX CONCURRENTLY IF EXISTS ix_model_runs_task_id_created_at_id',
    'DROP TRIGGER IF EXISTS model_runs_task_id_from_metadata ON model_runs',
    'DROP FUNCTION IF EXISTS model_runs_task_id_from_metadata()',
    'ALTER TABLE model_runs DROP COLUMN IF EXISTS task_id',
  ],
})
