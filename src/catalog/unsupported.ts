import type { Knex } from 'knex'

/** An object the revision generator cannot write: compared only to say that it changed. */
export interface OtherObject {
  readonly kind: string
  readonly name: string
  readonly definition: string
}

const schemaOid = '(SELECT oid FROM pg_namespace WHERE nspname = current_schema())'
// Objects an extension brings come and go with the extension, which is listed itself.
const notFromExtension = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`

// A sequence owned by a column (serial, identity) follows the column and is not listed.
const otherObjectsQuery = `
  SELECT 'view' AS kind, c.relname::text AS name, pg_get_viewdef(c.oid) AS definition
    FROM pg_class c WHERE c.relnamespace = ${schemaOid} AND c.relkind = 'v' AND ${notFromExtension('pg_class', 'c.oid')}
  UNION ALL
  SELECT 'materialized view', c.relname::text, pg_get_viewdef(c.oid)
    FROM pg_class c WHERE c.relnamespace = ${schemaOid} AND c.relkind = 'm'
  UNION ALL
  SELECT 'trigger', t.tgname || ' on ' || c.relname, pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = ${schemaOid} AND NOT t.tgisinternal
  UNION ALL
  SELECT 'sequence', c.relname::text, format('%s start %s increment %s min %s max %s cache %s cycle %s',
         format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
   WHERE c.relnamespace = ${schemaOid} AND ${notFromExtension('pg_class', 'c.oid')}
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
  UNION ALL
  SELECT CASE WHEN a.attidentity <> '' THEN 'identity column' ELSE 'generated column' END, c.relname || '.' || a.attname,
         CASE WHEN a.attidentity <> '' THEN 'GENERATED ' || CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END || ' AS IDENTITY'
              ELSE 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' END
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
   WHERE c.relnamespace = ${schemaOid} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND (a.attidentity <> '' OR a.attgenerated <> '')
  UNION ALL
  SELECT 'type', t.typname::text, CASE t.typtype
           WHEN 'e' THEN 'enum (' || (SELECT string_agg(quote_literal(l.enumlabel), ', ' ORDER BY l.enumsortorder) FROM pg_enum l WHERE l.enumtypid = t.oid) || ')'
           WHEN 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod)
           ELSE 'type of kind ' || t.typtype::text END
    FROM pg_type t LEFT JOIN pg_class r ON r.oid = t.typrelid
   WHERE t.typnamespace = ${schemaOid} AND t.typtype IN ('e', 'd', 'r', 'c') AND (t.typtype <> 'c' OR r.relkind = 'c')
     AND ${notFromExtension('pg_type', 't.oid')}
  UNION ALL
  SELECT 'function', p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid))
    FROM pg_proc p WHERE p.pronamespace = ${schemaOid} AND p.prokind IN ('f', 'p') AND ${notFromExtension('pg_proc', 'p.oid')}
  UNION ALL
  SELECT 'extension', x.extname::text, 'version ' || x.extversion FROM pg_extension x WHERE x.extname <> 'plpgsql'
   ORDER BY 1, 2`

/** What the schema holds beyond tables, columns, indexes and constraints. Read-only. */
export async function introspectOtherObjects (knex: Knex): Promise<OtherObject[]> {
  return (await knex.raw<{ rows: OtherObject[] }>(otherObjectsQuery)).rows
}

/** How `to` differs from `from` in objects the generator does not write, one line each. */
export function diffOtherObjects (from: readonly OtherObject[], to: readonly OtherObject[]): string[] {
  const key = (object: OtherObject) => `${object.kind} ${object.name}`
  const before = new Map(from.map((object) => [key(object), object]))
  const after = new Map(to.map((object) => [key(object), object]))
  const lines: string[] = []
  for (const [name, object] of after) {
    const old = before.get(name)
    if (old === undefined) lines.push(`${name} was added: ${object.definition}`)
    else if (old.definition !== object.definition) lines.push(`${name} changed: ${old.definition} -> ${object.definition}`)
  }
  for (const name of before.keys()) if (!after.has(name)) lines.push(`${name} was removed`)
  return lines
}
