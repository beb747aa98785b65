/**
 * The PostgreSQL channel on which every replica hears that `alembic_version` changed. The NOTIFY
 * is sent by the statement that writes the version: PostgreSQL delivers it on commit and drops
 * it on rollback, so a listener never hears of a version that did not happen.
 */
export const versionChannel = 'aip_schema_version'
