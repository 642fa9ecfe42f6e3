import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { RivetError } from '../../shared/errors/rivet-error.js';
import type { CommandIO } from './run-action.js';

/**
 * `rivet demo`: an embedded PostgreSQL (PGlite, a real Postgres compiled to wasm) speaking
 * the wire protocol on a loopback port, so the demo goes through the same `pg` source,
 * handlers and trust contract as a production run. No server, no Docker, no network.
 */
const EXAMPLES = fileURLToPath(new URL('../../../examples/demo/', import.meta.url));

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('export sample tables from an embedded PostgreSQL to ./rivet-demo (no server, no network)')
    .option('-o, --output <dir>', 'where to write the demo', 'rivet-demo')
    .action(async (opts: { output: string }) => {
      process.exitCode = await demoCommand(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}

export async function demoCommand(opts: { output: string }, io: CommandIO): Promise<number> {
  const outDir = resolve(opts.output);
  const shown = relative(process.cwd(), outDir) || '.';
  await mkdir(outDir, { recursive: true });

  io.stderr.write('rivet demo: starting an embedded PostgreSQL (PGlite) and loading sample tables…\n');
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
  try {
    await db.exec(await readFile(join(EXAMPLES, 'seed.sql'), 'utf8'));
    await server.start();
    const configText = (await readFile(join(EXAMPLES, 'rivet.yaml'), 'utf8')).replaceAll('DEMO_DIR', outDir);
    const configPath = join(outDir, 'rivet.yaml');
    await writeFile(configPath, configText);

    const env = process.env;
    const previous = env.RIVET_DEMO_URL;
    env.RIVET_DEMO_URL = `postgresql://postgres@${server.getServerConn()}/postgres`;
    const { runCommand } = await import('./run-action.js');
    let code: number;
    try {
      code = await runCommand({ config: configPath }, io);
    } finally {
      if (previous === undefined) delete env.RIVET_DEMO_URL;
      else env.RIVET_DEMO_URL = previous;
    }
    if (code !== 0) return code;
    io.stderr.write(
      [
        '',
        `Done. Each export left Parquet/CSV parts, manifest.json and _SUCCESS under ${shown}/:`,
        `  ls ${shown}/orders`,
        `  cat ${shown}/orders/_SUCCESS          # xxh3 of manifest.json's exact bytes`,
        '',
        'Look at the data with a reader rivet did not write:',
        `  duckdb -c "SELECT status, count(*), sum(amount) FROM '${shown}/orders/*.parquet' GROUP BY 1"`,
        `  python3 -c "import pyarrow.parquet as pq; print(pq.read_table('${shown}/orders/part-000001.parquet').schema)"`,
        '',
        `The config it ran is ${shown}/rivet.yaml; run history is in ${shown}/.rivet_state.db.`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (e) {
    if (e instanceof RivetError) throw e;
    throw new RivetError('INTERNAL', `the demo could not start its embedded database: ${(e as Error).message}`, { cause: e });
  } finally {
    await server.stop().catch(() => {});
    await db.close().catch(() => {});
  }
}
