import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

/**
 * `rivet schema config` against the configs users copy: every ```yaml block of README.md
 * and docs/**.md that is a rivet config (has `exports:`), and every examples/**\/rivet.yaml.
 * A block that shows only `exports:` gets a minimal `source:` so its export blocks are
 * still checked. A block that is not even YAML is a doc bug too.
 */
async function walk(dir: string, keep: (f: string) => boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, keep)));
    else if (keep(e.name)) out.push(p);
  }
  return out;
}

interface Example {
  where: string;
  config: Record<string, unknown>;
}

async function examples(): Promise<Example[]> {
  const found: Example[] = [];
  const markdown = [join(REPO_ROOT, 'README.md'), ...(await walk(join(REPO_ROOT, 'docs'), (f) => f.endsWith('.md')))];
  for (const file of markdown) {
    const md = await readFile(file, 'utf8').catch(() => '');
    for (const m of md.matchAll(/^```ya?ml[^\n]*\n([\s\S]*?)^```/gm)) {
      const where = `${relative(REPO_ROOT, file)}:${md.slice(0, m.index).split('\n').length}`;
      // The AWS deploy sidecar has its own strict schema (infra/lib/deploy-config.ts, tested in test/infra).
      if (m[1].startsWith('# rivet.deploy.yaml')) continue;
      for (const doc of parseAllDocuments(m[1])) {
        if (doc.errors.length > 0) throw new Error(`${where}: the YAML example does not parse: ${doc.errors[0].message}`);
        const value = doc.toJS() as unknown;
        if (!value || typeof value !== 'object' || !('exports' in value)) continue;
        const config = value as Record<string, unknown>;
        found.push({ where, config: 'source' in config ? config : { source: { type: 'postgres', url_env: 'DATABASE_URL' }, ...config } });
      }
    }
  }
  for (const file of await walk(join(REPO_ROOT, 'examples'), (f) => f === 'rivet.yaml')) {
    const doc = parseAllDocuments(await readFile(file, 'utf8'))[0];
    found.push({ where: relative(REPO_ROOT, file), config: doc.toJS() as Record<string, unknown> });
  }
  return found;
}

let validate: ReturnType<Ajv2020['compile']>;
beforeAll(async () => {
  const r = await runCli(['schema', 'config']);
  expect(r.code, r.stderr).toBe(0);
  const schema = JSON.parse(r.stdout);
  expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  expect(schema.title).toMatch(/^Rivet config/);
  validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
});

describe('rivet schema config', () => {
  it('accepts every example config of the docs, the README and examples/', async () => {
    const all = await examples();
    // The docs have several full configs and export fragments, and examples/demo exists.
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(all.some((e) => e.where.startsWith('examples/'))).toBe(true);
    const invalid = all.filter((e) => !validate(e.config)).map((e) => `${e.where}: ${JSON.stringify(validate(e.config) ? null : validate.errors)}`);
    expect(invalid).toEqual([]);
  });

  it('flags a typo in a key, a bad enum value and a missing required key, naming them', async () => {
    const demo = (await examples()).find((e) => e.where.startsWith('examples/'))!.config as { exports: Record<string, unknown>[] };

    const typo = structuredClone(demo);
    typo.exports[0].compresion = 'zstd';
    expect(validate(typo)).toBe(false);
    expect(validate.errors).toEqual(expect.arrayContaining([expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'compresion' } })]));

    const badEnum = structuredClone(demo);
    badEnum.exports[0].format = 'avro';
    expect(validate(badEnum)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/enum|allowed/);

    const rootTypo = { ...structuredClone(demo), exprots: [] };
    expect(validate(rootTypo)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/exprots/);

    const noSource = structuredClone(demo) as Record<string, unknown>;
    delete noSource.source;
    expect(validate(noSource)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/required.*source|source.*required/);
  });
});
