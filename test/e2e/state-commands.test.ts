import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, pgExec, testPgUrl } from '../helpers/pg.js';
import { runCli } from '../helpers/cli.js';

let schema: string;

beforeAll(async () => {
  schema = await freshSchema('e2e_statecmd');
  await pgExec(`CREATE TABLE ${schema}.items (id int); INSERT INTO ${schema}.items SELECT generate_series(1, 3);`);
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'rivet-statecmd-'));
  const cfg = join(dir, 'rivet.yaml');
  const exp = (name: string, extra: string) =>
    `  - name: ${name}\n    table: ${schema}.items\n${extra}    format: csv\n    destination: { type: local, path: ${join(dir, name)} }\n`;
  await writeFile(cfg, `source:\n  type: postgres\n  url: ${testPgUrl()}\nexports:\n${exp('items', '    mode: incremental\n    cursor_column: id\n')}${exp('snap', '')}`);
  return { dir, cfg };
}

describe('rivet state show | reset | progression', () => {
  it('before any run: says nothing has run yet, exit 0', async () => {
    const { cfg } = await setup();
    const show = await runCli(['state', 'show', '-c', cfg]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^Nothing has run yet for this config\.\n {2}Run `rivet run --config .*` first, then `rivet state show` again\.\n$/);
    const prog = await runCli(['state', 'progression', '-c', cfg]);
    expect(prog.code).toBe(0);
    expect(prog.stdout).toBe('No progression boundaries recorded yet.\n');
  });

  it('after a run of a full export only: no cursor recorded yet, with pointers to metrics and files', async () => {
    const { cfg } = await setup();
    expect((await runCli(['run', '-c', cfg, '-e', 'snap'])).code).toBe(0);
    const show = await runCli(['state', 'show', '-c', cfg]);
    expect(show.code).toBe(0);
    expect(show.stdout.split('\n')[0]).toBe('No incremental cursor has been recorded yet.');
    expect(show.stdout).toMatch(/rivet metrics -c/);
    expect(show.stdout).toMatch(/rivet state files -c/);
  });

  it('show lists cursors in the 30/40 column layout; progression in the 145-wide layout; reset forgets one cursor', async () => {
    const { cfg } = await setup();
    expect((await runCli(['run', '-c', cfg])).code).toBe(0);

    const show = await runCli(['state', 'show', '-c', cfg]);
    expect(show.code).toBe(0);
    const lines = show.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${'EXPORT'.padEnd(30)} ${'LAST CURSOR'.padEnd(40)} LAST RUN`);
    expect(lines[1]).toBe('-'.repeat(90));
    expect(lines[2]).toMatch(new RegExp(`^${'items'.padEnd(30)} ${'3'.padEnd(40)} \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+00:00$`));
    expect(lines).toHaveLength(3);

    const prog = await runCli(['state', 'progression', '-c', cfg, '-e', 'items']);
    const p = prog.stdout.trimEnd().split('\n');
    expect(p[0]).toBe(`${'EXPORT'.padEnd(30)} ${'COMM MODE'.padEnd(12)} ${'COMMITTED'.padEnd(30)} ${'COMMITTED AT'.padEnd(25)} ${'VERI MODE'.padEnd(12)} VERIFIED`);
    expect(p[1]).toBe('-'.repeat(145));
    expect(p[2]).toMatch(new RegExp(`^${'items'.padEnd(30)} ${'incremental'.padEnd(12)} ${'3'.padEnd(30)} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC {3}${'-'.padEnd(12)} -$`));
    const none = await runCli(['state', 'progression', '-c', cfg, '-e', 'snap']);
    expect(none.stdout).toBe("No progression boundaries recorded yet for export 'snap'.\n");

    const reset = await runCli(['state', 'reset', '-c', cfg, '-e', 'items']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/^State reset for export 'items'/);
    const after = await runCli(['state', 'show', '-c', cfg]);
    expect(after.stdout).toMatch(/^No incremental cursor has been recorded yet\./);
  });

  it('reset of an export that is not in the config is refused with exit 2, naming the known exports', async () => {
    const { cfg } = await setup();
    const r = await runCli(['state', 'reset', '-c', cfg, '-e', 'itemz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/export 'itemz' is not in .*rivet\.yaml \(exports: items, snap\)/);
    expect(r.stderr).toMatch(/hint: .*rivet state show -c/);
    const missing = await runCli(['state', 'reset', '-c', cfg]);
    expect(missing.code).toBe(2);
  });
});
