import type { MigrateRequest } from '../migrator/index.js'
import type { MigrateAsked, ReviewService } from '../review/service.js'

/**
 * An upgrade or downgrade through the approval gate, as the engine is to run it: with a plan,
 * exactly its steps from its state, under an actor that names the plan in the audit log.
 */
export async function clearedMigration (review: Pick<ReviewService, 'clear'>, actor: string, asked: MigrateAsked): Promise<MigrateRequest> {
  const { target, expected, planId } = await review.clear(asked)
  return { target, dryRun: asked.dryRun, actor: planId === null ? actor : `${actor} (plan ${planId})`, ...expected === undefined ? {} : { expected } }
}
