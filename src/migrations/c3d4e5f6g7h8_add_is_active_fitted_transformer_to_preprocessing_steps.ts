import { defineRevision } from '../migrator/revision.js'

/*
 * Online-safe on a large `preprocessing_steps`: the columns' defaults are constants (no
 * rewrite), and the index is built CONCURRENTLY outside a transaction. Every statement can be
 * run again after a failure part-way; an index a failed build left INVALID is dropped first.
 */
export default defineRevision({
  revision: 'c3d4e5f6g7h8',
  downRevisions: ['b2c3d4e5f6g7'],
  description: 'add is_active and fitted_transformer to preprocessing steps',
  createDate: '2025-12-29T12:00:00.000Z',
  transactional: false,
  up: [
    `ALTER TABLE preprocessing_steps
      ADD COLUMN IF NOT EXISTS is_active boolean NOT NULL DEFAULT true,
      ADD COLUMN IF NOT EXISTS fitted_transformer bytea`,
    `DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('ix_preprocessing_steps_is_active') AND NOT indisvalid) THEN
        DROP INDEX ix_preprocessing_steps_is_active;
      END IF;
    END $$`,
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_preprocessing_steps_is_active ON preprocessing_steps (is_active)',
  ],
  down: [
    'DROP INDEX CONCURRENTLY IF EXISTS ix_preprocessing_steps_is_active',
    `ALTER TABLE preprocessing_steps
      DROP COLUMN IF EXISTS fitted_transformer,
      DROP COLUMN IF EXISTS is_active`,
  ],
})
