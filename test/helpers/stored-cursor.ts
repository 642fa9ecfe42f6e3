import { join } from 'node:path';
import Database from 'better-sqlite3';

/** The cursor the SQLite state next to a config (`<dir>/.rivet_state.db`) holds for an export, or null. */
export function storedCursor(dir: string, exportName: string): string | null {
  const db = new Database(join(dir, '.rivet_state.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT last_cursor_value AS v FROM export_state WHERE export_name = ?').get(exportName) as { v: string } | undefined;
    return row?.v ?? null;
  } finally {
    db.close();
  }
}
