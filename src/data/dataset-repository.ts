import type { Knex } from 'knex'
import type { Dataset, DatasetCreate, DatasetListQuery } from '../schemas/data.js'
import { isoTimestamp, jsonb } from './columns.js'
import { withConstraints } from './constraint-errors.js'
import { newestFirstPage, type Page } from './pagination.js'

export type DatasetRepository = ReturnType<typeof createDatasetRepository>

/**
 * `file_path` is NOT NULL but a dataset is registered before its file exists: the empty string
 * stands for "no file yet" in the table and reads back as null.
 */
const noFile = ''

export function createDatasetRepository (knex: Knex) {
  const columns = [
    'id', 'user_id as userId', 'name', 'description',
    knex.raw('nullif(file_path, ?) AS ??', [noFile, 'filePath']),
    knex.raw('file_size::double precision AS ??', ['fileSize']),
    'row_count as rowCount', 'column_count as columnCount', 'columns_info as columnsInfo',
    isoTimestamp(knex, 'created_at', 'createdAt'), isoTimestamp(knex, 'updated_at', 'updatedAt'),
  ]

  return {
    async create (dataset: DatasetCreate): Promise<Dataset> {
      const [row] = await withConstraints(knex('datasets').insert({
        user_id: dataset.userId,
        name: dataset.name,
        description: dataset.description,
        file_path: dataset.filePath ?? noFile,
        file_size: dataset.fileSize,
        row_count: dataset.rowCount,
        column_count: dataset.columnCount,
        columns_info: jsonb(dataset.columnsInfo),
      }).returning(columns))
      return row
    },

    async findById (id: string): Promise<Dataset | null> {
      return await knex('datasets').select(columns).where({ id }).first() ?? null
    },

    async list (query: DatasetListQuery): Promise<Page<Dataset>> {
      const builder = knex('datasets').select(columns)
      if (query.userId !== undefined) builder.where({ user_id: query.userId })
      return await newestFirstPage<Dataset>(builder, query)
    },
  }
}
