/**
 * The user's SQL made safe to wrap (`SELECT * FROM (<sql>) …`, `DECLARE … FOR <sql>`):
 * trailing semicolons and trailing comments removed. A small scanner skips quoted strings,
 * quoted identifiers, dollar-quoted bodies and comments, so a `;` or `--` inside them is
 * left alone.
 */
export function pgQueryText(sql: string): string {
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
      // PostgreSQL block comments nest.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else if (c === "'" && sql[j] === '\\' && /[eE]/.test(sql[i - 1] ?? '')) j += 2;
        else j++;
      }
      lastSignificant = Math.min(j, n - 1);
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close < 0 ? n : close + tag[0].length;
        lastSignificant = end - 1;
        i = end;
        continue;
      }
    }
    if (c !== ';' && !/\s/.test(c)) lastSignificant = i;
    i++;
  }
  return sql.slice(0, lastSignificant + 1).trim();
}
