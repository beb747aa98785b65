import { loadRevisions, RevisionGraph } from '../../src/migrator/index.js'

/** The seed's four revisions, oldest first: what Alembic's own fixture and the seed's guide know. */
export const seedRevisions = ['5c1b6116de51', 'a1b2c3d4e5f6', 'b2c3d4e5f6g7', 'c3d4e5f6g7h8'] as const

/** The graph of the revisions this build ships (src/migrations): tests ask it what head is. */
export const shipped = RevisionGraph.build(await loadRevisions())

/** Every shipped revision, parents first. */
export const shippedRevisions: readonly string[] = shipped.all().map((revision) => revision.revision)

/** The shipped head; the service ships one, merged when branches meet. */
export const shippedHead: string = onlyHead(shipped.heads)

/** The revision the head revises: where a downgrade -1 from head lands. */
export const belowShippedHead: string = onlyHead(shipped.get(shippedHead).downRevisions)

/** The revisions after the seed's last, parents first: what a database Alembic left at the seed's head still lacks. */
export const afterSeed: readonly string[] = shippedRevisions.filter((id) => shipped.descendants(seedRevisions[3]).has(id))

function onlyHead (ids: readonly string[]): string {
  const [id] = ids
  if (ids.length !== 1 || id === undefined) throw new Error(`expected one revision in src/migrations' graph, found ${ids.length}: ${ids.join(', ')}`)
  return id
}
