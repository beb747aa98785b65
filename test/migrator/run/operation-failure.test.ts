import t from 'tap'
import { DatabaseAheadError, MigrationFailedError } from '../../../src/migrator/errors.js'
import type { OperationContext } from '../../../src/migrator/run/operation-context.js'
import { operationError, recordFailure } from '../../../src/migrator/run/operation-failure.js'
import type { AuditLog, OperationError } from '../../../src/migrator/store/audit.js'

const failed = (cause: unknown) => new MigrationFailedError({ revision: 'r2', direction: 'up', databaseCode: null, databaseMessage: (cause as Error).message }, { cause, tries: 1 })
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })

t.test('how a failure reads in the audit log', async (t) => {
  const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
  t.match(operationError(failed(terminated), 'r1'), { kind: 'connection-lost', revision: 'r2', lastDone: 'r1', message: /lost while running r2 .*the last revision done is r1$/ })
  t.match(operationError(refused(), null), { kind: 'connection-lost', lastDone: null, message: /no revision of it was done$/ }, 'lost before any step')
  t.match(operationError(failed(Object.assign(new Error('division by zero'), { code: '22012' })), 'r1'), { kind: 'migration-failed', revision: 'r2', code: null, tries: 1 }, 'a revision\'s own failure is not connection-lost')
  t.notOk('lastDone' in operationError(failed(new Error('syntax error')), 'r1'))
  t.match(operationError(new DatabaseAheadError(['x']), null), { kind: 'database-ahead' })
  t.match(operationError(new Error('boom'), null), { kind: 'internal', message: 'boom' })
})

/** A context whose audit log fails `failures` times as a database that does not answer, then records. */
function contextFailing (failures: unknown[], stopping = () => false) {
  const recorded: OperationError[] = []
  const logs: string[] = []
  let tries = 0
  const audit = {
    async closeFailed (_id: string, error: OperationError) {
      tries++
      const failure = failures.shift()
      if (failure !== undefined) throw failure
      recorded.push(error)
    },
  } as unknown as AuditLog
  const log = (_object: object, message: string) => { logs.push(message) }
  const context = { audit, logger: { info: log, warn: log, error: log }, stopping } as unknown as OperationContext
  return { context, recorded, logs, tries: () => tries }
}

t.test('while the database does not answer, the failure is recorded once it does', async (t) => {
  const { context, recorded, logs, tries } = contextFailing([refused(), refused(), refused()])
  const error: OperationError = { kind: 'connection-lost', message: 'lost', lastDone: 'r1' }
  await recordFailure(context, 'op', error)
  t.same(recorded, [], 'the caller is not held while the database is away')
  const started = performance.now()
  while (recorded.length === 0 && performance.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(recorded, [error], 'recorded once the database answers')
  t.equal(tries(), 4)
  t.match(logs, [/does not answer/, /answers again/])
})

t.test('any other failure to record is logged, not retried; a stopping process stops trying', async (t) => {
  const broken = contextFailing([new Error('permission denied')])
  await recordFailure(broken.context, 'op', { kind: 'internal', message: 'x' })
  t.equal(broken.tries(), 1)
  t.match(broken.logs, [/could not record/])
  const stopping = contextFailing([refused(), refused()], () => true)
  await recordFailure(stopping.context, 'op', { kind: 'internal', message: 'x' })
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(stopping.tries(), 1, 'no retry once the process is stopping')
})
