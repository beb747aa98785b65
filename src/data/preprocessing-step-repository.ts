import type { Knex } from 'knex'
import type { PreprocessingStep, PreprocessingStepCreate, PreprocessingStepListQuery, PreprocessingStepPatch } from '../schemas/data.js'
import { isoTimestamp, jsonb } from './columns.js'
import { withConstraints } from './constraint-errors.js'
import { stepOrderPage, type Page } from './pagination.js'

export type PreprocessingStepRepository = ReturnType<typeof createPreprocessingStepRepository>

export interface FittedTransformer {
  readonly bytes: Buffer
  /** Hex; computed by PostgreSQL next to the bytes, so it is the digest of what is stored. */
  readonly sha256: string
}

/** A step's transformer is a blob of up to the configured size: only its presence and size leave the database with the step. */
export function createPreprocessingStepRepository (knex: Knex) {
  const columns = [
    'id', 'dataset_id as datasetId', 'step_type as stepType', 'parameters', 'order', 'is_active as isActive',
    knex.raw('fitted_transformer IS NOT NULL AS ??', ['hasFittedTransformer']),
    knex.raw('octet_length(fitted_transformer) AS ??', ['fittedTransformerSize']),
    isoTimestamp(knex, 'created_at', 'createdAt'),
  ]
  const digest = knex.raw('encode(sha256(fitted_transformer), ?) AS sha256', ['hex'])

  const exists = async (id: string): Promise<boolean> =>
    await knex('preprocessing_steps').where({ id }).first(knex.raw('1')) !== undefined

  return {
    async create (step: PreprocessingStepCreate): Promise<PreprocessingStep> {
      const [row] = await withConstraints(knex('preprocessing_steps').insert({
        dataset_id: step.datasetId,
        step_type: step.stepType,
        order: step.order,
        parameters: jsonb(step.parameters),
        is_active: step.isActive,
      }).returning(columns))
      return row
    },

    async findById (id: string): Promise<PreprocessingStep | null> {
      return await knex('preprocessing_steps').select(columns).where({ id }).first() ?? null
    },

    async list (query: PreprocessingStepListQuery): Promise<Page<PreprocessingStep>> {
      const builder = knex('preprocessing_steps').select(columns)
      if (query.datasetId !== undefined) builder.where({ dataset_id: query.datasetId })
      if (query.active !== undefined) builder.where({ is_active: query.active })
      return await stepOrderPage<PreprocessingStep>(builder, query)
    },

    async update (id: string, patch: PreprocessingStepPatch): Promise<PreprocessingStep | null> {
      const [row] = await knex('preprocessing_steps').where({ id }).update({
        is_active: patch.isActive,
        order: patch.order,
        parameters: jsonb(patch.parameters),
      }).returning(columns)
      return row ?? null
    },

    async remove (id: string): Promise<boolean> {
      return await knex('preprocessing_steps').where({ id }).delete() > 0
    },

    /** The digest of what was stored; null for an unknown step. */
    async putFittedTransformer (id: string, bytes: Buffer): Promise<string | null> {
      const [row] = await knex('preprocessing_steps').where({ id }).update({ fitted_transformer: bytes }).returning(digest)
      return row?.sha256 ?? null
    },

    /** Undefined for an unknown step, null for a step without a transformer. */
    async getFittedTransformer (id: string): Promise<FittedTransformer | null | undefined> {
      const row = await knex('preprocessing_steps').select('fitted_transformer', digest).where({ id }).first()
      if (row === undefined) return undefined
      return row.fitted_transformer === null ? null : { bytes: row.fitted_transformer, sha256: row.sha256 }
    },

    /** As `getFittedTransformer`: true when one was removed. */
    async deleteFittedTransformer (id: string): Promise<boolean | undefined> {
      const removed = await knex('preprocessing_steps').where({ id }).whereNotNull('fitted_transformer').update({ fitted_transformer: null })
      if (removed > 0) return true
      return await exists(id) ? false : undefined
    },
  }
}
