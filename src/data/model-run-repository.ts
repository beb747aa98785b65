import type { Knex } from 'knex'
import type { ModelRun, ModelRunCreate, ModelRunListQuery, ModelRunPatch, ModelRunStatus } from '../schemas/data.js'
import { isoTimestamp, jsonb } from './columns.js'
import { withConstraints } from './constraint-errors.js'
import { mergePatchExpression } from './json-merge-patch.js'
import { newestFirstPage, type Page } from './pagination.js'

export type ModelRunRepository = ReturnType<typeof createModelRunRepository>

/**
 * `hasTaskId`: whether the revision that adds `model_runs.task_id` is applied. Before it (a
 * database not yet upgraded, or mid-way through its backfill) a run's `taskId` is null: the
 * routes keep serving while the column is being added.
 */
export function createModelRunRepository (knex: Knex, hasTaskId: () => Promise<boolean> = async () => true) {
  const common = [
    'id', 'experiment_id as experimentId', 'model_type as modelType', 'status',
    'hyperparameters', 'metrics', 'metadata', 'training_time as trainingTime',
  ]
  const createdAt = isoTimestamp(knex, 'created_at', 'createdAt')
  const withTaskId = [...common, 'task_id as taskId', createdAt]
  const withoutTaskId = [...common, knex.raw('CAST(NULL AS varchar) AS "taskId"'), createdAt]
  const columnsNow = async () => await hasTaskId() ? withTaskId : withoutTaskId

  return {
    async create (run: ModelRunCreate): Promise<ModelRun> {
      const [row] = await withConstraints(knex('model_runs').insert({
        experiment_id: run.experimentId,
        model_type: run.modelType,
        hyperparameters: jsonb(run.hyperparameters),
        metadata: jsonb(run.metadata),
      }).returning(await columnsNow()))
      return row
    },

    async findById (id: string): Promise<ModelRun | null> {
      return await knex('model_runs').select(await columnsNow()).where({ id }).first() ?? null
    },

    async statusOf (id: string): Promise<ModelRunStatus | null> {
      const row: { status: ModelRunStatus } | undefined = await knex('model_runs').select('status').where({ id }).first()
      return row?.status ?? null
    },

    async list (query: ModelRunListQuery): Promise<Page<ModelRun>> {
      const builder = knex('model_runs').select(await columnsNow())
      if (query.status !== undefined) builder.where({ status: query.status })
      if (query.experimentId !== undefined) builder.where({ experiment_id: query.experimentId })
      if (query.modelType !== undefined) builder.where({ model_type: query.modelType })
      if (query.taskId !== undefined) builder.where({ task_id: query.taskId })
      return await newestFirstPage<ModelRun>(builder, query)
    },

    /**
     * One UPDATE: the status moves only from one of `fromStatuses` (checked by PostgreSQL on the
     * row it locks), and the metadata patch merges into whatever the row holds at that moment.
     * Null when no row matched: the id is unknown or the status was not one of `fromStatuses`.
     */
    async update (id: string, patch: ModelRunPatch, fromStatuses: readonly ModelRunStatus[] | null): Promise<ModelRun | null> {
      const changes: Record<string, unknown> = {
        status: patch.status,
        metrics: jsonb(patch.metrics),
        training_time: patch.trainingTime,
      }
      if (patch.metadata !== undefined) {
        changes.metadata = patch.metadata === null ? null : mergePatchExpression(knex, 'metadata', patch.metadata, 'metadata')
      }
      const query = knex('model_runs').where({ id }).update(changes).returning(await columnsNow())
      if (fromStatuses !== null) query.whereIn('status', fromStatuses)
      const [row] = await query
      return row ?? null
    },

    async remove (id: string): Promise<boolean> {
      return await knex('model_runs').where({ id }).delete() > 0
    },
  }
}
