// The seed's last two revisions as they were first written (Alembic's form): one transaction
// each, the CHECK validated and the indexes built while ACCESS EXCLUSIVE is held. Kept only to
// measure what the reshaped revisions in src/migrations spare live traffic.
export const naiveRevisions = [
  {
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
  },
  {
    revision: 'c3d4e5f6g7h8',
    downRevisions: ['b2c3d4e5f6g7'],
    description: 'add is_active and fitted_transformer to preprocessing steps',
    createDate: '2025-12-29T12:00:00.000Z',
    up: [
      'ALTER TABLE preprocessing_steps ADD COLUMN is_active boolean NOT NULL DEFAULT true',
      'ALTER TABLE preprocessing_steps ADD COLUMN fitted_transformer bytea',
      'CREATE INDEX ix_preprocessing_steps_is_active ON preprocessing_steps (is_active)',
    ],
    down: [
      'DROP INDEX ix_preprocessing_steps_is_active',
      'ALTER TABLE preprocessing_steps DROP COLUMN fitted_transformer',
      'ALTER TABLE preprocessing_steps DROP COLUMN is_active',
    ],
  },
]
