/**
 * The user's SQL made safe to wrap as a subquery: trailing semicolons and trailing comments
 * removed. A small scanner follows T-SQL's lexical rules so that a `;` or `--` inside a
 * string or identifier is left alone: `'…'` and `N'…'` strings (quotes doubled, no
 * backslash escapes), `"…"` and `[…]` identifiers (`]]` inside brackets), `--` line
 * comments and `/* … *\/` block comments, which nest in T-SQL.
 */
export function mssqlQueryText(sql: string): string {
  let lastSignificant = -1;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    if (c === "'" || c === '"' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      while (j < n) {
        if (sql[j] === close) {
          if (sql[j + 1] === close) j += 2;
          else break;
        } else j++;
      }
      lastSignificant = Math.min(j, n - 1);
      i = j + 1;
      continue;
    }
    if (c !== ';' && !/\s/.test(c)) lastSignificant = i;
    i++;
  }
  return sql.slice(0, lastSignificant + 1).trim();
}
