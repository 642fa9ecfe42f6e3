/**
 * Placeholders in `destination.path` / `destination.prefix`: `{date}` (UTC YYYY-MM-DD of the
 * run), `{export}` and its alias `{table}` (the export name), `{run_id}`. Plain replacement of
 * every occurrence; an unknown `{x}` is left as written.
 *
 * `{run_id}` differs from the reference on purpose: there it is substituted only by
 * `rivet validate --run-id` and stays the literal text `{run_id}` at run time, which puts
 * every run in one directory literally named `{run_id}`. Here it is substituted whenever a
 * run id is known.
 */
export interface PlaceholderContext {
  date: string;
  exportName: string;
  runId?: string;
}

export function expandPlaceholders(template: string, ctx: PlaceholderContext): string {
  // One pass, so an export name that happens to contain `{date}` is not expanded again.
  return template.replace(/\{(date|export|table|run_id)\}/g, (token, name: string) => {
    if (name === 'date') return ctx.date;
    if (name === 'run_id') return ctx.runId ?? token;
    return ctx.exportName;
  });
}

/** The UTC calendar date of `d`, `YYYY-MM-DD`. */
export function utcDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
