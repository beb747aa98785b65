import { defineRevision } from '../migrator/revision.js'

/*
 * Each list of the data API is read in keyset order, filtered by at most one equality per
 * documented filter: an index on (filter, keyset) hands PostgreSQL the rows already in order,
 * so a page, first or deep, reads about its own rows instead of sorting every match. The
 * model runs and history lists go newest first on (created_at, id); the steps list in the
 * order the steps run, (dataset_id, "order", id), which also serves its dataset filter.
 * Expand only: older code runs unchanged beside these indexes. Each is built CONCURRENTLY
 * outside a transaction, so reads and writes go on; every statement can be run again after
 * a failure part-way, and an index a failed build left INVALID is dropped first.
 */
const indexes: ReadonlyArray<readonly [name: string, definition: string]> = [
  ['ix_model_runs_created_at_id', 'model_runs (created_at DESC, id DESC)'],
  ['ix_model_runs_status_created_at_id', 'model_runs (status, created_at DESC, id DESC)'],
  ['ix_model_runs_experiment_id_created_at_id', 'model_runs (experiment_id, created_at DESC, id DESC)'],
  ['ix_model_runs_model_type_created_at_id', 'model_runs (model_type, created_at DESC, id DESC)'],
  ['ix_preprocessing_steps_dataset_id_order_id', 'preprocessing_steps (dataset_id, "order", id)'],
  ['ix_preprocessing_steps_is_active_dataset_id_order_id', 'preprocessing_steps (is_active, dataset_id, "order", id)'],
  ['ix_preprocessing_history_created_at_id', 'preprocessing_history (created_at DESC, id DESC)'],
  ['ix_preprocessing_history_dataset_id_created_at_id', 'preprocessing_history (dataset_id, created_at DESC, id DESC)'],
  ['ix_preprocessing_history_status_created_at_id', 'preprocessing_history (status, created_at DESC, id DESC)'],
]

export default defineRevision({
  revision: '505acae0b257',
  downRevisions: ['c3d4e5f6g7h8'],
  description: 'add keyset indexes for the data lists',
  createDate: '2026-11-26T09:18:26.661Z',
  transactional: false,
  up: indexes.flatMap(([name, definition]) => [
    `DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('${name}') AND NOT indisvalid) THEN
        DROP INDEX ${name};
      END IF;
    END $$`,
    `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${definition}`,
  ]),
  down: indexes.map(([name]) => `DROP INDEX CONCURRENTLY IF EXISTS ${name}`).reverse(),
})
