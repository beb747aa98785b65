import t from 'tap'
import type { FleetEntry } from '../../../src/fleet/status/entry.js'
import { stateOf } from '../../../src/fleet/status/entry.js'
import { encodeCursor, fleetPage, InvalidFleetQueryError, labelSelector } from '../../../src/fleet/status/query.js'
import { redactedUrl } from '../../../src/fleet/targets/target.js'

function entry (name: string, fields: Partial<FleetEntry> = {}): FleetEntry {
  return { name, environment: 'production', labels: {}, reachable: true, current: ['a'], upToDate: true, pending: 0, ahead: [], breaking: [], interrupted: null, inSync: null, lastOperation: null, checkedAt: '2026-01-01T00:00:00.000Z', ...fields }
}

const entries = [
  entry('a', { labels: { region: 'eu' } }),
  entry('b', { upToDate: false, pending: 2, labels: { region: 'us' } }),
  entry('c', { reachable: false, environment: 'testing' }),
  entry('d', { upToDate: false, ahead: ['z'], inSync: false, labels: { region: 'eu', tenant: 'd' } }),
  entry('e', { reachable: false, checkedAt: null }),
]

t.test('the summary counts every match; unreachable only once checked', async (t) => {
  t.same(fleetPage(entries, { limit: 2 }).summary, { total: 5, upToDate: 1, behind: 1, ahead: 1, unreachable: 1, drifted: 1 })
  t.same(entries.map(stateOf), ['up-to-date', 'behind', 'unreachable', 'ahead', 'unchecked'])
})

t.test('filters by environment and by every label given', async (t) => {
  t.same(fleetPage(entries, { limit: 10, environment: 'testing' }).targets.map((e) => e.name), ['c'])
  t.same(fleetPage(entries, { limit: 10, labels: { region: 'eu' } }).targets.map((e) => e.name), ['a', 'd'])
  t.same(fleetPage(entries, { limit: 10, labels: { region: 'eu', tenant: 'd' } }).targets.map((e) => e.name), ['d'])
  t.same(fleetPage(entries, { limit: 10, labels: { region: 'mars' } }), { summary: { total: 0, upToDate: 0, behind: 0, ahead: 0, unreachable: 0, drifted: 0 }, targets: [], nextCursor: null })
})

t.test('pages in name order; a cursor past a target gone still lands after it', async (t) => {
  const first = fleetPage(entries, { limit: 2 })
  t.same(first.targets.map((e) => e.name), ['a', 'b'])
  t.equal(first.nextCursor, encodeCursor('b'))
  const second = fleetPage(entries, { limit: 2, cursor: first.nextCursor ?? '' })
  t.same(second.targets.map((e) => e.name), ['c', 'd'])
  const last = fleetPage(entries, { limit: 2, cursor: second.nextCursor ?? '' })
  t.same(last.targets.map((e) => e.name), ['e'])
  t.equal(last.nextCursor, null)
  t.same(fleetPage(entries.filter((e) => e.name !== 'b'), { limit: 2, cursor: encodeCursor('b') }).targets.map((e) => e.name), ['c', 'd'])
  t.equal(fleetPage(entries, { limit: 5 }).nextCursor, null, 'no cursor when the page holds the rest')
})

t.test('a cursor or label this service did not make is the caller\'s mistake', async (t) => {
  t.throws(() => fleetPage(entries, { limit: 2, cursor: '!!' }), InvalidFleetQueryError)
  t.throws(() => fleetPage(entries, { limit: 2, cursor: 'YQ==' }), InvalidFleetQueryError, 'padding: not the encoding given')
  t.throws(() => labelSelector(['region']), InvalidFleetQueryError)
  t.throws(() => labelSelector([':eu']), InvalidFleetQueryError)
  t.same(labelSelector(['region:eu', 'url:http://x']), { region: 'eu', url: 'http://x' }, 'the value keeps its own colons')
})

t.test('a URL is shown with its password as ***, whatever it holds', async (t) => {
  t.equal(redactedUrl('postgres://app:s3cr%40t@db:5432/app'), 'postgres://app:***@db:5432/app')
  t.equal(redactedUrl('postgres://app@db/app'), 'postgres://app@db/app')
  t.equal(redactedUrl('postgres://db/app?password=s3cret&sslmode=require'), 'postgres://db/app?password=***&sslmode=require')
  t.equal(redactedUrl('not a url s3cret'), '***')
})
