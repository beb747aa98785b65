import { defineRevision } from '../migrator/revision.js'

/*
 * Online-safe on a large `model_runs`: outside a transaction, each statement holds its lock
 * only for itself. The columns' defaults are constants (no rewrite); the CHECK is added
 * NOT VALID (a catalog change) and validated under SHARE UPDATE EXCLUSIVE, which lets reads
 * and writes go on; the index is built CONCURRENTLY. Every statement can be run again after a
 * failure part-way, and an index a failed CONCURRENTLY build left INVALID is dropped first.
 */
export default defineRevision({
  revision: 'b2c3d4e5f6g7',
  downRevisions: ['a1b2c3d4e5f6'],
  description: 'add status metadata to model runs',
  createDate: '2025-12-29T00:00:00.000Z',
  transactional: false,
  up: [
    `ALTER TABLE model_runs
      ADD COLUMN IF NOT EXISTS status varchar(20) NOT NULL DEFAULT 'pending',
      ADD COLUMN IF NOT EXISTS metadata jsonb`,
    `DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'model_runs'::regclass AND conname = 'ck_model_runs_status') THEN
        ALTER TABLE model_runs ADD CONSTRAINT ck_model_runs_status
          CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')) NOT VALID;
      END IF;
    END $$`,
    'ALTER TABLE model_runs VALIDATE CONSTRAINT ck_model_runs_status',
    `DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('ix_model_runs_status') AND NOT indisvalid) THEN
        DROP INDEX ix_model_runs_status;
      END IF;
    END $$`,
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_model_runs_status ON model_runs (status)',
  ],
  down: [
    'DROP INDEX CONCURRENTLY IF EXISTS ix_model_runs_status',
    `ALTER TABLE model_runs
      DROP CONSTRAINT IF EXISTS ck_model_runs_status,
      DROP COLUMN IF EXISTS metadata,
      DROP COLUMN IF EXISTS status`,
  ],
})
