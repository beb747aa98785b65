import { defineRevision } from '../migrator/revision.js'

export default defineRevision({
  revision: 'a1b2c3d4e5f6',
  downRevisions: ['5c1b6116de51'],
  description: 'add preprocessing history table',
  createDate: '2025-12-28T00:00:00.000Z',
  up: [
    `CREATE TABLE preprocessing_history (
      id uuid NOT NULL DEFAULT gen_random_uuid(),
      dataset_id uuid NOT NULL,
      original_dataset_id uuid,
      output_dataset_id uuid,
      operation_type varchar(100) NOT NULL,
      parameters jsonb,
      status varchar(50) NOT NULL DEFAULT 'success',
      execution_time double precision,
      error_message text,
      statistics jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT preprocessing_history_pkey PRIMARY KEY (id),
      CONSTRAINT preprocessing_history_dataset_id_fkey FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE,
      CONSTRAINT preprocessing_history_original_dataset_id_fkey FOREIGN KEY (original_dataset_id) REFERENCES datasets (id) ON DELETE CASCADE,
      CONSTRAINT preprocessing_history_output_dataset_id_fkey FOREIGN KEY (output_dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
    )`,
    'CREATE INDEX ix_preprocessing_history_dataset_id ON preprocessing_history (dataset_id)',
  ],
  down: [
    'DROP TABLE preprocessing_history',
  ],
})
