import { DuplicateError, ParentNotFoundError } from './errors.js'
import { sqlStateOf } from '../database/pg-errors.js'

const foreignKeyViolation = '23503'
const uniqueViolation = '23505'

/** Each foreign key, by constraint name: the field that named the parent, and what the parent is. */
const parents: Record<string, { field: string, parent: string }> = {
  datasets_user_id_fkey: { field: 'userId', parent: 'user' },
  experiments_user_id_fkey: { field: 'userId', parent: 'user' },
  experiments_dataset_id_fkey: { field: 'datasetId', parent: 'dataset' },
  model_runs_experiment_id_fkey: { field: 'experimentId', parent: 'experiment' },
  preprocessing_steps_dataset_id_fkey: { field: 'datasetId', parent: 'dataset' },
  preprocessing_history_dataset_id_fkey: { field: 'datasetId', parent: 'dataset' },
  preprocessing_history_original_dataset_id_fkey: { field: 'originalDatasetId', parent: 'dataset' },
  preprocessing_history_output_dataset_id_fkey: { field: 'outputDatasetId', parent: 'dataset' },
}

/** Each unique index, by name: the field that collided. */
const uniques: Record<string, { field: string, what: string }> = {
  ix_users_email: { field: 'email', what: 'a user with this email' },
  ix_users_username: { field: 'name', what: 'a user with this name' },
}

/**
 * Runs a write, turning the violations a client can cause into errors naming its field: a parent
 * that does not exist, a duplicate. Anything else is rethrown as it is.
 */
export async function withConstraints<T> (write: PromiseLike<T>): Promise<T> {
  try {
    return await write
  } catch (error) {
    const code = sqlStateOf(error)
    const constraint = (error as { constraint?: unknown }).constraint
    const parent = typeof constraint === 'string' && code === foreignKeyViolation ? parents[constraint] : undefined
    if (parent !== undefined) {
      throw new ParentNotFoundError(parent.field, parent.parent)
    }
    const unique = typeof constraint === 'string' && code === uniqueViolation ? uniques[constraint] : undefined
    if (unique !== undefined) {
      throw new DuplicateError(unique.field, unique.what)
    }
    throw error
  }
}
