import type { Command } from 'commander';

/**
 * The JSON Schema (draft 2020-12) of `rivet.yaml`, generated from the very zod schema the
 * config loader parses with, so the two cannot drift. `io: 'input'` describes what a user
 * writes: a key with a default is optional, and the default is shown. Strict objects come
 * out as `additionalProperties: false`, so a typo'd key is flagged by the editor.
 */
export async function configJsonSchema(version: string): Promise<Record<string, unknown>> {
  const { z } = await import('zod');
  const { RivetConfigSchema } = await import('../../shared/config/schema.js');
  const generated = z.toJSONSchema(RivetConfigSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema: $schema ?? 'https://json-schema.org/draft/2020-12/schema',
    title: `Rivet config (${version})`,
    description:
      'rivet.yaml: one source and the exports to run from it. Values are checked after ${NAME} substitution. Reference this file from the top of rivet.yaml with `# yaml-language-server: $schema=./rivet.schema.json`.',
    ...rest,
  };
}

export function registerSchema(program: Command): void {
  const schema = program.command('schema').description("print machine-readable schemas of rivet's data contracts");
  schema
    .command('config')
    .description('print the JSON Schema of rivet.yaml (for editors: # yaml-language-server: $schema=./rivet.schema.json)')
    .action(async () => {
      const version = typeof program.version() === 'string' ? (program.version() as string) : 'rivet';
      process.stdout.write(JSON.stringify(await configJsonSchema(version), null, 2) + '\n');
    });
}
