/** PostgreSQL's SQLSTATE codes the engine reacts to. */
const undefinedTable = '42P01'

export function sqlStateOf (error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null
}

export function isUndefinedTable (error: unknown): boolean {
  return sqlStateOf(error) === undefinedTable
}
