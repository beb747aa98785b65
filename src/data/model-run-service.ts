import type { ModelRun, ModelRunPatch, ModelRunStatus } from '../schemas/data.js'
import { IllegalTransitionError } from './errors.js'
import type { ModelRunRepository } from './model-run-repository.js'

/** The statuses each status may be entered from; a run never returns to `pending`. */
const predecessors: Record<ModelRunStatus, readonly ModelRunStatus[]> = {
  pending: [],
  running: ['pending'],
  completed: ['running'],
  failed: ['running'],
  cancelled: ['pending', 'running'],
}

export type ModelRunService = ReturnType<typeof createModelRunService>

/** Model runs with their one rule: status moves forward only, checked in the same statement that moves it. */
export function createModelRunService (runs: ModelRunRepository) {
  return {
    create: runs.create,
    findById: runs.findById,
    list: runs.list,
    remove: runs.remove,

    /** Null for an unknown id; an IllegalTransitionError for a transition the rule forbids. */
    async update (id: string, patch: ModelRunPatch): Promise<ModelRun | null> {
      const to = patch.status
      const updated = await runs.update(id, patch, to === undefined ? null : predecessors[to])
      if (updated !== null || to === undefined) return updated
      // The guarded UPDATE matched nothing: read why. The status may have moved since; what it is now is the answer.
      const from = await runs.statusOf(id)
      if (from === null) return null
      throw new IllegalTransitionError(from, to)
    },
  }
}
