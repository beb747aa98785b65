import { defineRevision } from '../migrator/revision.js'

export default defineRevision({
  revision: 'b2c3d4e5f6g7',
  downRevisions: ['a1b2c3d4e5f6'],
  description: 'add status metadata to model runs',
  createDate: '2025-12-29T00:00:00.000Z',
  up: [
    "ALTER TABLE model_runs ADD COLUMN status varchar(20) NOT NULL DEFAULT 'pending'",
    'ALTER TABLE model_runs ADD COLUMN metadata jsonb',
    `ALTER TABLE model_runs ADD CONSTRAINT ck_model_runs_status
      CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'))`,
    'CREATE INDEX ix_model_runs_status ON model_runs (status)',
  ],
  down: [
    'DROP INDEX ix_model_runs_status',
    'ALTER TABLE model_runs DROP CONSTRAINT ck_model_runs_status',
    'ALTER TABLE model_runs DROP COLUMN metadata',
    'ALTER TABLE model_runs DROP COLUMN status',
  ],
})
