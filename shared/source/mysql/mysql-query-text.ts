/**
 * The user's SQL made safe to wrap as a subquery: trailing semicolons and trailing comments
 * removed. A small scanner follows MySQL's lexical rules so that a `;`, `#` or `--` inside
 * a string or identifier is left alone: `'…'` and `"…"` strings (backslash escapes and
 * doubled quotes), `` `…` `` identifiers, `#` and `-- ` line comments (MySQL needs the space
 * after `--`), and non-nesting `/* … *\/` block comments.
 */
export function mysqlQueryText(sql: string): string {
  let lastSignificant = -1;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2])))) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < n) {
        if (c !== '`' && sql[j] === '\\') j += 2;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
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
