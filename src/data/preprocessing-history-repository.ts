import type { Knex } from 'knex'
import type { PreprocessingHistoryCreate, PreprocessingHistoryEntry, PreprocessingHistoryListQuery } from '../schemas/data.js'
import { isoTimestamp, jsonb } from './columns.js'
import { withConstraints } from './constraint-errors.js'
import { newestFirstPage, type Page } from './pagination.js'

export type PreprocessingHistoryRepository = ReturnType<typeof createPreprocessingHistoryRepository>

export function createPreprocessingHistoryRepository (knex: Knex) {
  const columns = [
    'id', 'dataset_id as datasetId', 'original_dataset_id as originalDatasetId', 'output_dataset_id as outputDatasetId',
    'operation_type as operationType', 'parameters', 'status', 'execution_time as executionTime',
    'error_message as errorMessage', 'statistics', isoTimestamp(knex, 'created_at', 'createdAt'),
  ]

  return {
    async create (entry: PreprocessingHistoryCreate): Promise<PreprocessingHistoryEntry> {
      const [row] = await withConstraints(knex('preprocessing_history').insert({
        dataset_id: entry.datasetId,
        original_dataset_id: entry.originalDatasetId,
        output_dataset_id: entry.outputDatasetId,
        operation_type: entry.operationType,
        parameters: jsonb(entry.parameters),
        status: entry.status,
        execution_time: entry.executionTime,
        error_message: entry.errorMessage,
        statistics: jsonb(entry.statistics),
      }).returning(columns))
      return row
    },

    async list (query: PreprocessingHistoryListQuery): Promise<Page<PreprocessingHistoryEntry>> {
      const builder = knex('preprocessing_history').select(columns)
      if (query.datasetId !== undefined) builder.where({ dataset_id: query.datasetId })
      if (query.status !== undefined) builder.where({ status: query.status })
      return await newestFirstPage<PreprocessingHistoryEntry>(builder, query)
    },
  }
}
