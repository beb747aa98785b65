import { defineRevision } from '../migrator/revision.js'

export default defineRevision({
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
})
