import fp from 'fastify-plugin'
import { createReviewService, type ReviewService } from '../review/service.js'
import type { ReviewSettings } from '../review/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    review: ReviewService
  }
}

/** Plans against the engine's graph, stored beside its bookkeeping. */
export default fp<ReviewSettings>(async (fastify, settings) => {
  fastify.decorate('review', createReviewService(fastify.knex, fastify.migrator.graph, settings))
}, { name: 'review', dependencies: ['knex', 'migrator'] })
