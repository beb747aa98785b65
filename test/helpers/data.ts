import type { FastifyInstance } from 'fastify'
import type { Knex } from 'knex'
import { bearer, buildTestApp, type TestAppOptions } from './app.js'
import { createTestDatabase, testKnex } from './database.js'

interface Teardown { teardown (fn: () => unknown): void }

export interface DataTestContext {
  readonly app: FastifyInstance
  readonly db: Knex
  readonly url: string
}

export interface Parents {
  readonly userId: string
  readonly datasetId: string
  readonly experimentId: string
}

/** A database of the file's own, brought to `revision` (head by default) through the API, and the app on it. */
export async function buildDataApp (t: Teardown, label: string, options: TestAppOptions & { revision?: string } = {}): Promise<DataTestContext> {
  const url = await createTestDatabase(t, label)
  const app = await buildTestApp(t, url, options)
  const upgraded = await app.inject({ method: 'POST', url: '/migrations/upgrade', headers: bearer('migrate'), payload: { target: options.revision ?? 'head' } })
  if (upgraded.statusCode !== 200) throw new Error(`upgrade failed: ${upgraded.body}`)
  return { app, db: testKnex(t, url), url }
}

let serial = 0

/** A user, a dataset of theirs, and an experiment on it: what runs and steps hang from. */
export async function createParents (app: FastifyInstance): Promise<Parents> {
  serial += 1
  const tag = `${process.pid}-${serial}`
  const userId = (await post(app, '/users', { email: `user-${tag}@example.com`, name: `user-${tag}` })).id
  const datasetId = (await post(app, '/datasets', { userId, name: `dataset-${tag}` })).id
  const experimentId = (await post(app, '/experiments', { userId, datasetId, name: `experiment-${tag}` })).id
  return { userId, datasetId, experimentId }
}

/** POST with the write scope, expecting 201; the created record. */
export async function post (app: FastifyInstance, url: string, payload: object): Promise<{ id: string, [key: string]: unknown }> {
  const res = await app.inject({ method: 'POST', url, headers: bearer('write'), payload })
  if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
  return res.json()
}

export const missingId = '00000000-0000-4000-8000-000000000000'
