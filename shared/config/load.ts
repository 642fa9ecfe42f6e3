import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configError, isRivetError, RivetError } from '../errors/rivet-error.js';
import type { Logger } from '../log/logger.js';
import { warnIgnoredKeys } from './ignored-keys.js';
import { checkMisplacedTuning } from './misplaced-tuning.js';
import { unusedParams } from './params.js';
import { recordExplicitKeys } from './provenance.js';
import { describeSchemaIssues } from './schema-errors.js';
import { RivetConfigSchema, type RivetConfig } from './schema.js';
import { substituteVariables } from './substitute.js';
import { validateConfig } from './validate.js';
import { dropNullValues, parseYamlText } from './yaml-text.js';

export interface LoadedConfig {
  /** Absolute path of the config file. */
  path: string;
  /** Its directory: the base for `query_file`, `url_file`, `tls.ca_file` and the state file. */
  dir: string;
  config: RivetConfig;
  /** The file as written, before `${}` substitution (safe to hash; may still reference secrets by name only). */
  rawText: string;
}

export interface LoadOptions {
  params?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  log: Logger;
}

/**
 * Load `rivet.yaml` the way the reference does, step by step: read; warn about unused
 * params; substitute `${NAME}` over the whole text (params, then environment); catch tuning
 * keys placed outside `tuning:`; parse YAML; parse the typed grammar (unknown keys refused
 * with a suggestion); run the semantic rules. Any failure is a CONFIG_* RivetError (exit 2)
 * whose message starts with the config path.
 */
export async function loadConfig(configPath: string, options: LoadOptions): Promise<LoadedConfig> {
  const abs = path.resolve(configPath);
  const params = options.params ?? {};
  const env = options.env ?? process.env;

  let rawText: string;
  try {
    rawText = await readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new RivetError('CONFIG_NOT_FOUND', `config file not found: ${configPath}`, {
        hint: 'check the path given to --config, or run `rivet init` to generate a config',
      });
    }
    throw configError(`config ${configPath} cannot be read: ${(e as Error).message}`, 'check that it is a readable file', e);
  }

  for (const name of unusedParams(params, rawText)) {
    options.log.warnOnce(
      `unused-param:${name}`,
      `--param ${name} is not used: nothing in ${configPath} references \${${name}}; check the spelling (names are case-sensitive) or drop this --param`,
    );
  }

  try {
    const text = substituteVariables(rawText, { params, env, strict: true, origin: 'config' });
    const doc = parseYamlText(text);
    checkMisplacedTuning(doc);
    const raw = dropNullValues(doc);
    const parsed = RivetConfigSchema.safeParse(raw);
    if (!parsed.success) {
      const problem = describeSchemaIssues(parsed.error.issues, raw, RivetConfigSchema);
      throw configError(problem.message, problem.hint);
    }
    const config = parsed.data;
    recordExplicitKeys(config, raw);
    validateConfig(config);
    warnIgnoredKeys(config, options.log);
    return { path: abs, dir: path.dirname(abs), config, rawText };
  } catch (e) {
    if (isRivetError(e)) {
      const message = e.message.startsWith('config: ') ? e.message.slice('config: '.length) : e.message;
      throw new RivetError(e.code, `invalid config ${configPath}: ${message}`, { hint: e.hint, exitCode: e.exitCode });
    }
    throw e;
  }
}
