import { configError } from '../errors/rivet-error.js';
import { registerSecret } from '../log/redact.js';

/**
 * `${NAME}` substitution, the reference's rules: scan left to right for `${` up to the next
 * `}`; the value comes from the params first, then the environment; `${}` becomes the empty
 * string; an unterminated `${` is kept verbatim and ends the scan; inserted text is never
 * scanned again; there is no escape for a literal `${`.
 *
 * In strict mode an unknown name is an error: a missing secret must not silently become an
 * empty string. In lenient mode it is kept verbatim.
 */
export interface SubstituteOptions {
  params?: Readonly<Record<string, string>>;
  env?: NodeJS.ProcessEnv;
  strict: boolean;
  /** Where the text came from, for the error message (e.g. `config rivet.yaml`). */
  origin: string;
}

/** Environment values whose names look like credentials are masked in every later message. */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|URL|DSN|AUTH/i;

export function substituteVariables(text: string, options: SubstituteOptions): string {
  const params = options.params ?? {};
  const env = options.env ?? {};
  let out = '';
  let pos = 0;
  for (;;) {
    const start = text.indexOf('${', pos);
    if (start < 0) break;
    const end = text.indexOf('}', start + 2);
    if (end < 0) break;
    const name = text.slice(start + 2, end);
    out += text.slice(pos, start);
    pos = end + 1;
    if (name === '') continue;
    if (Object.hasOwn(params, name)) {
      out += params[name];
      continue;
    }
    const fromEnv = env[name];
    if (fromEnv !== undefined) {
      if (SECRET_NAME.test(name)) registerSecret(fromEnv);
      out += fromEnv;
      continue;
    }
    if (!options.strict) {
      out += text.slice(start, end + 1);
      continue;
    }
    const sources = options.params ? `no --param ${name}=… and no environment variable ${name}` : `environment variable ${name} is not set`;
    throw configError(
      `${options.origin}: variable \${${name}} is referenced but not set (${sources}); ` +
        'refusing to continue because a missing secret would otherwise silently become an empty string',
      options.params ? `pass --param ${name}=<value> or export ${name} before running rivet` : `export ${name} before running rivet`,
    );
  }
  return out + text.slice(pos);
}
