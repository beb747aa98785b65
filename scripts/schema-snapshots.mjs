// `npm run schema:snapshots`: migrates a scratch database revision by revision through the
// engine (from the build) and writes schema-snapshots/<revision>.json, plus base.json. The
// server is TEST_DATABASE_URL's (default postgres://postgres@127.0.0.1:5432/postgres); when
// nothing answers there and TEST_DATABASE_URL is unset, an embedded PostgreSQL started for the run.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { generateSnapshots } from '../dist/catalog/generate.js'
import { defaultSnapshotsDir, writeSnapshots } from '../dist/catalog/snapshots.js'
import { loadRevisions, RevisionGraph } from '../dist/migrator/index.js'
import { createKnex } from '../dist/plugins/knex.js'

const defaultUrl = 'postgres://postgres@127.0.0.1:5432/postgres'

async function admin (serverUrl, sql) {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query(sql)
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function answers (url) {
  return admin(url, 'SELECT 1').then(() => true, () => false)
}

async function writeFromScratchDatabase (serverUrl) {
  const name = `aip_schema_snapshots_${randomBytes(4).toString('hex')}`
  await admin(serverUrl, `CREATE DATABASE ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const knex = createKnex(url.toString())
  try {
    const snapshots = await generateSnapshots(knex, RevisionGraph.build(await loadRevisions()))
    await writeSnapshots(defaultSnapshotsDir, snapshots)
    console.log(`wrote ${snapshots.length} snapshots (base and ${snapshots.length - 1} revisions) to ${defaultSnapshotsDir}`)
  } finally {
    await knex.destroy()
    await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
}

if (process.env.TEST_DATABASE_URL !== undefined || await answers(defaultUrl)) {
  await writeFromScratchDatabase(process.env.TEST_DATABASE_URL ?? defaultUrl)
} else {
  const { startEmbeddedPostgres } = await import('../dist/embedded/embedded-postgres.js')
  const dataDir = await mkdtemp(join(tmpdir(), 'aip-schema-snapshots-'))
  const embedded = await startEmbeddedPostgres({ dataDir })
  try {
    await writeFromScratchDatabase(embedded.url)
  } finally {
    await embedded.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
}
