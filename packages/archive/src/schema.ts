/** A PostgreSQL schema name the archive may live in: a plain identifier, quoted where used. */
export function checkSchemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(
      `archive schema ${JSON.stringify(schema)} is not a plain lower-case identifier (expected letters, digits and _, at most 63)`,
    )
  }
  return schema
}
