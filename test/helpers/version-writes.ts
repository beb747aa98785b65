import type { Knex } from 'knex'

export interface VersionWrite { readonly op: string, readonly version_num: string }

/**
 * Creates `alembic_version` ahead of the engine, with a trigger logging every row written to it,
 * in order: what each commit of a migration wrote, read back with `versionWrites`.
 */
export async function logVersionWrites (db: Knex): Promise<void> {
  await db.raw(`CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
    CREATE TABLE version_writes (id serial PRIMARY KEY, op text NOT NULL, version_num text NOT NULL);
    CREATE FUNCTION log_version_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO version_writes (op, version_num) VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.version_num ELSE NEW.version_num END);
      RETURN NULL;
    END $$;
    CREATE TRIGGER log_version_write AFTER INSERT OR UPDATE OR DELETE ON alembic_version FOR EACH ROW EXECUTE FUNCTION log_version_write()`)
}

/** The rows written since the last call, oldest first. */
export async function versionWrites (db: Knex): Promise<VersionWrite[]> {
  const rows = await db('version_writes').orderBy('id').select('op', 'version_num')
  await db('version_writes').delete()
  return rows
}

/**
 * Where each commit of an upgrade along a line left `alembic_version`: each commit inserts the
 * revision it reached and deletes the one the commit before reached (`from` for the first, none
 * from base). `chained` says the writes are exactly that.
 */
export function commitsIn (writes: readonly VersionWrite[], from?: string): { reached: string[], chained: boolean } {
  const reached = writes.filter((write) => write.op === 'INSERT').map((write) => write.version_num)
  const deleted = writes.filter((write) => write.op === 'DELETE').map((write) => write.version_num)
  const replaced = [...(from === undefined ? [] : [from]), ...reached.slice(0, -1)]
  return { reached, chained: writes.length === reached.length + deleted.length && deleted.length === replaced.length && deleted.every((id, index) => id === replaced[index]) }
}
