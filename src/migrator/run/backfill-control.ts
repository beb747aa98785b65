import { NotPausableError, OperationNotFoundError } from '../errors.js'
import type { AuditLog, Operation } from '../store/audit.js'

/** Whether the operation has a backfill step under way. */
function inBackfill (operation: Operation): boolean {
  return operation.steps.some((step) => step.inProgress === true)
}

async function existing (audit: AuditLog, id: string): Promise<Operation> {
  const operation = await audit.get(id)
  if (operation === null) throw new OperationNotFoundError(id)
  return operation
}

/**
 * Pause: written to the database and read by the runner between batches, so it reaches the
 * replica running the backfill whichever replica it was asked of. The answer is the operation
 * as it is now: `running` until its current batch commits, then `paused`.
 */
export async function pauseOperation (audit: AuditLog, id: string): Promise<Operation> {
  const operation = await existing(audit, id)
  if (operation.status !== 'running' || !inBackfill(operation)) throw new NotPausableError(id, `is ${operation.status} and not running a backfill`)
  await audit.requestStop(id, 'pause')
  return operation
}

/** Cancel: a running backfill stops at its next batch and fails; a paused one fails now. Rows done stay done. */
export async function cancelOperation (audit: AuditLog, id: string): Promise<Operation> {
  const operation = await existing(audit, id)
  if (operation.status === 'paused') {
    await audit.closeFailed(id, { kind: 'cancelled', message: 'cancelled while paused in a backfill; the rows done stay, and a later upgrade resumes from its checkpoint' })
    return existing(audit, id)
  }
  if (operation.status !== 'running' || !inBackfill(operation)) throw new NotPausableError(id, `is ${operation.status} and not running a backfill`)
  await audit.requestStop(id, 'cancel')
  return operation
}

/** Resume: a paused operation is queued again for this instance; the caller runs it. */
export async function requeueOperation (audit: AuditLog, id: string, instance: string): Promise<Operation> {
  const operation = await existing(audit, id)
  if (operation.status !== 'paused' || !(await audit.requeuePaused(id, instance))) throw new NotPausableError(id, `is ${operation.status}, not paused`)
  return existing(audit, id)
}
