import { AsyncLocalStorage } from 'node:async_hooks'
import type { FastifyBaseLogger } from 'fastify'
import type { MigratorLogger } from '../migrator/index.js'

const summarising = new AsyncLocalStorage<true>()

/**
 * Runs `work` with the engine's line per lock, per revision started and per revision done at
 * debug level: its caller logs what happened in a line or two (the start-up upgrade). Warnings
 * and errors stay as they are.
 */
export function withEngineStepsSummarised<T> (work: () => Promise<T>): Promise<T> {
  return summarising.run(true, work)
}

/** The engine's logger: `logger`, with its info lines at debug inside `withEngineStepsSummarised`. */
export function engineLogger (logger: FastifyBaseLogger): MigratorLogger {
  return {
    info: (object, message) => summarising.getStore() === true ? logger.debug(object, message) : logger.info(object, message),
    warn: (object, message) => logger.warn(object, message),
    error: (object, message) => logger.error(object, message),
  }
}
