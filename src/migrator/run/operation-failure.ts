import { setTimeout as sleep } from 'node:timers/promises'
import { isDatabaseUnavailable } from '../../database/pg-errors.js'
import { MigrationFailedError, MigratorError } from '../errors.js'
import type { OperationError } from '../store/audit.js'
import type { OperationContext } from './operation-context.js'

/**
 * How the audit log says an operation failed. One cut off by the database going away (a
 * crash, a restart, its backend terminated) did not fail on its SQL: it is `connection-lost`,
 * naming the last revision it got done; whole revisions are kept, never half of one.
 */
export function operationError (error: unknown, lastDone: string | null): OperationError {
  if (isDatabaseUnavailable(error) || (error instanceof MigratorError && isDatabaseUnavailable(error.cause))) {
    const revision = error instanceof MigrationFailedError ? error.revision : undefined
    const done = lastDone === null ? 'no revision of it was done' : `the last revision done is ${lastDone}`
    return {
      kind: 'connection-lost',
      message: `the connection to the database was lost${revision === undefined ? '' : ` while running ${revision}`} (${(error as Error).message}); ${done}`,
      ...(revision === undefined ? {} : { revision }),
      lastDone,
    }
  }
  if (error instanceof MigrationFailedError) {
    return { kind: error.kind, message: error.message, revision: error.revision, code: error.databaseCode, tries: error.tries, blockers: [...error.blockers] }
  }
  if (error instanceof MigratorError) {
    const fields = error as unknown as { revision?: string }
    return { kind: error.kind, message: error.message, revision: fields.revision }
  }
  return { kind: 'internal', message: (error as Error).message }
}

/**
 * Closes the operation as failed. While the database does not answer, this replica, which
 * owns the operation and knows it ended, tries again in the background until it does: no
 * deploy job polling the operation waits on a `running` that will never end.
 */
export async function recordFailure (context: OperationContext, operation: string, error: OperationError): Promise<void> {
  try {
    await context.audit.closeFailed(operation, error)
  } catch (failure) {
    if (!isDatabaseUnavailable(failure)) {
      context.logger.error({ err: failure, operation }, 'could not record the failed operation')
      return
    }
    context.logger.warn({ operation }, 'the database does not answer: the failed operation is recorded once it does')
    recordOnceAnswering(context, operation, error).catch((lost: unknown) => {
      context.logger.error({ err: lost, operation }, 'could not record the failed operation')
    })
  }
}

async function recordOnceAnswering (context: OperationContext, operation: string, error: OperationError): Promise<void> {
  for (let delayMs = 100; !context.stopping(); delayMs = Math.min(delayMs * 2, 2000)) {
    await sleep(delayMs, undefined, { ref: false })
    try {
      await context.audit.closeFailed(operation, error)
      context.logger.info({ operation, error: error.kind }, 'the database answers again: the failed operation is recorded')
      return
    } catch (failure) {
      if (!isDatabaseUnavailable(failure)) throw failure
    }
  }
}
