import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const DEMO = fileURLToPath(new URL('../../examples/demo/rivet.yaml', import.meta.url));

describe('rivet schema config', () => {
  it('prints a JSON Schema that accepts the example config and flags a typo and a bad enum value', async () => {
    const r = await runCli(['schema', 'config']);
    expect(r.code, r.stderr).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.title).toMatch(/^Rivet config/);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);

    const demo = parse(await readFile(DEMO, 'utf8'));
    expect(validate(demo), JSON.stringify(validate.errors)).toBe(true);

    const typo = structuredClone(demo);
    typo.exports[0].compresion = 'zstd';
    expect(validate(typo)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/compresion/);

    const badEnum = structuredClone(demo);
    badEnum.exports[0].format = 'avro';
    expect(validate(badEnum)).toBe(false);
    expect(JSON.stringify(validate.errors)).toMatch(/enum|allowed/);
  });
});
