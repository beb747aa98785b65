import type { Knex } from 'knex'
import type { Experiment, ExperimentCreate, ExperimentListQuery } from '../schemas/data.js'
import { isoTimestamp } from './columns.js'
import { withConstraints } from './constraint-errors.js'
import { newestFirstPage, type Page } from './pagination.js'

export type ExperimentRepository = ReturnType<typeof createExperimentRepository>

export function createExperimentRepository (knex: Knex) {
  const columns = [
    'id', 'user_id as userId', 'dataset_id as datasetId', 'name', 'description',
    'problem_type as problemType', 'target_column as targetColumn',
    isoTimestamp(knex, 'created_at', 'createdAt'), isoTimestamp(knex, 'updated_at', 'updatedAt'),
  ]

  return {
    async create (experiment: ExperimentCreate): Promise<Experiment> {
      const [row] = await withConstraints(knex('experiments').insert({
        user_id: experiment.userId,
        dataset_id: experiment.datasetId,
        name: experiment.name,
        description: experiment.description,
        problem_type: experiment.problemType,
        target_column: experiment.targetColumn,
      }).returning(columns))
      return row
    },

    async findById (id: string): Promise<Experiment | null> {
      return await knex('experiments').select(columns).where({ id }).first() ?? null
    },

    async list (query: ExperimentListQuery): Promise<Page<Experiment>> {
      const builder = knex('experiments').select(columns)
      if (query.userId !== undefined) builder.where({ user_id: query.userId })
      if (query.datasetId !== undefined) builder.where({ dataset_id: query.datasetId })
      return await newestFirstPage<Experiment>(builder, query)
    },
  }
}
