import t from 'tap'
import { isDatabaseUnavailable, isStatementTimeout } from '../../src/database/pg-errors.js'

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code })

t.test('what counts as the database being unavailable', async (t) => {
  const unavailable: Array<[string, unknown]> = [
    ['connection refused', withCode('ECONNREFUSED')],
    ['connection reset', withCode('ECONNRESET')],
    ['admin shutdown', withCode('57P01')],
    ['crash shutdown', withCode('57P02')],
    ['starting up', withCode('57P03')],
    ['too many connections', withCode('53300')],
    ['connection exception class', withCode('08006')],
    ['pool acquire timeout', Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' })],
    ['a connection that died under a query', new Error('select 1 - Connection terminated unexpectedly')],
    ['a client already broken', new Error('ROLLBACK - Client has encountered a connection error and is not queryable')],
  ]
  for (const [name, error] of unavailable) t.ok(isDatabaseUnavailable(error), name)

  const notUnavailable: Array<[string, unknown]> = [
    ['a unique violation', withCode('23505')],
    ['a missing table', withCode('42P01')],
    ['a statement timeout', withCode('57014')],
    ['a wrong password', withCode('28P01')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
  ]
  for (const [name, error] of notUnavailable) t.notOk(isDatabaseUnavailable(error), name)
})

t.test('a statement timeout is its own case', async (t) => {
  t.ok(isStatementTimeout(withCode('57014')))
  t.notOk(isStatementTimeout(withCode('57P01')))
})
