import fp from 'fastify-plugin'
import { createDatasetRepository, type DatasetRepository } from '../data/dataset-repository.js'
import { createExperimentRepository, type ExperimentRepository } from '../data/experiment-repository.js'
import { createModelRunRepository } from '../data/model-run-repository.js'
import { createModelRunService, type ModelRunService } from '../data/model-run-service.js'
import { createPreprocessingHistoryRepository, type PreprocessingHistoryRepository } from '../data/preprocessing-history-repository.js'
import { createPreprocessingStepRepository, type PreprocessingStepRepository } from '../data/preprocessing-step-repository.js'
import { createUserRepository, type UserRepository } from '../data/user-repository.js'
import { revisions } from '../routes/data/common.js'

declare module 'fastify' {
  interface FastifyInstance {
    data: DataAccess
  }
}

export interface DataAccess {
  readonly users: UserRepository
  readonly datasets: DatasetRepository
  readonly experiments: ExperimentRepository
  readonly modelRuns: ModelRunService
  readonly preprocessingSteps: PreprocessingStepRepository
  readonly preprocessingHistory: PreprocessingHistoryRepository
}

/** The repositories and services the data routes use, over the app's one pool. */
export default fp(async (fastify) => {
  const { knex } = fastify
  // Read from the cached schema state (kept fresh by NOTIFY), not a query per request.
  const hasTaskId = async () => fastify.migrator.viewOf(await fastify.schemaState.state()).analysis.applied.has(revisions.modelRunTaskId)
  fastify.decorate('data', {
    users: createUserRepository(knex),
    datasets: createDatasetRepository(knex),
    experiments: createExperimentRepository(knex),
    modelRuns: createModelRunService(createModelRunRepository(knex, hasTaskId)),
    preprocessingSteps: createPreprocessingStepRepository(knex),
    preprocessingHistory: createPreprocessingHistoryRepository(knex),
  } satisfies DataAccess)
}, { name: 'data', dependencies: ['knex', 'migrator', 'schema-state'] })
