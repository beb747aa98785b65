import type { FastifyPluginAsync } from 'fastify'
import datasets from './datasets.js'
import experiments from './experiments.js'
import fittedTransformer from './fitted-transformer.js'
import modelRuns from './model-runs.js'
import preprocessingHistory from './preprocessing-history.js'
import preprocessingSteps from './preprocessing-steps.js'
import users from './users.js'

export interface DataRoutesOptions {
  readonly fittedTransformerMaxBytes: number
}

/** Every data route: the parents model runs and steps hang from, then the runs, steps and history. */
const dataRoutes: FastifyPluginAsync<DataRoutesOptions> = async (fastify, options) => {
  await fastify.register(users)
  await fastify.register(datasets)
  await fastify.register(experiments)
  await fastify.register(modelRuns)
  await fastify.register(preprocessingSteps)
  await fastify.register(fittedTransformer, { maxBytes: options.fittedTransformerMaxBytes })
  await fastify.register(preprocessingHistory)
}

export default dataRoutes
