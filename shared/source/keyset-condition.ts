/**
 * The WHERE clause of a `chunk_by_key` chunk — `key >= from AND key < until`, either side
 * left out when unbounded — shared by every dialect: only the literals are engine-specific.
 * The key is NOT NULL (the planner refuses nullable keys), so an unbounded side loses no row.
 */
export function keysetWhere(column: string, range: { from: string | null; until: string | null }, literal: (value: string) => string): string {
  const conditions: string[] = [];
  if (range.from !== null) conditions.push(`${column} >= ${literal(range.from)}`);
  if (range.until !== null) conditions.push(`${column} < ${literal(range.until)}`);
  return conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
}
