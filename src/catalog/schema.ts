/**
 * A schema as the catalog describes it, normalised: names instead of oids, deterministic order,
 * nothing that depends on the database's history (column positions matter to no comparison).
 */
export interface ColumnDefinition {
  readonly name: string
  /** `format_type`, e.g. `character varying(255)`, `timestamp with time zone`. */
  readonly type: string
  readonly nullable: boolean
  /** The default expression as PostgreSQL deparses it, or null. */
  readonly default: string | null
}

export interface IndexDefinition {
  readonly name: string
  /** Key columns, or the expression of an expression key, in key order. */
  readonly columns: string[]
  readonly unique: boolean
  /** Backs the table's primary key. */
  readonly primary: boolean
  /** The access method: `btree`, `gin`, … */
  readonly method: string
  /** The WHERE of a partial index, or null. */
  readonly predicate: string | null
  /** `false` for an index a failed `CREATE INDEX CONCURRENTLY` left behind: it exists but serves nothing. */
  readonly valid: boolean
  /** `pg_get_indexdef`: the whole statement. */
  readonly definition: string
}

export type ReferentialAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT'

export interface ForeignKeyDefinition {
  readonly name: string
  readonly columns: string[]
  /** The referenced table, schema-qualified only when it lives in another schema. */
  readonly target: { readonly table: string, readonly columns: string[] }
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
  /** `false` while a constraint added `NOT VALID` awaits `VALIDATE CONSTRAINT`. */
  readonly valid: boolean
}

export interface CheckDefinition {
  readonly name: string
  /** `pg_get_constraintdef`, e.g. `CHECK (...)`. */
  readonly definition: string
  readonly valid: boolean
}

export interface TableDefinition {
  readonly name: string
  readonly columns: ColumnDefinition[]
  readonly indexes: IndexDefinition[]
  readonly foreignKeys: ForeignKeyDefinition[]
  readonly checks: CheckDefinition[]
}

/** What a revision produces: a committed snapshot, or the live schema with the bookkeeping left out. */
export interface SchemaDefinition {
  readonly tables: TableDefinition[]
}

export interface LiveTable extends TableDefinition {
  /** One of the tables the migration engine keeps for itself; never part of a revision's schema. */
  readonly bookkeeping: boolean
}

export interface LiveSchema {
  /** The schema read: the connection's `current_schema()`. */
  readonly schema: string
  readonly tables: LiveTable[]
}

/** The live schema without the engine's bookkeeping: what a revision's snapshot describes. */
export function applicationSchema (live: LiveSchema): SchemaDefinition {
  return {
    tables: live.tables.filter((table) => !table.bookkeeping).map(({ bookkeeping: _bookkeeping, ...table }) => table),
  }
}
