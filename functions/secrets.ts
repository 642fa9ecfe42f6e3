import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RivetError } from '../shared/errors/rivet-error.js';
import { registerSecret } from '../shared/log/redact.js';

/**
 * Environment variables the config names (`url_env`, `password_env`, `access_key_env`, …)
 * filled from Secrets Manager at cold start. The stack passes the mapping as RIVET_SECRETS,
 * `{"DATABASE_URL": "<secret arn or name>", "DB_PASSWORD": "<arn>#password"}` — `#key`
 * picks one field of a JSON secret (RDS-managed secrets are JSON). Values are registered for
 * redaction before anything else can print them.
 */
export async function loadSecretsIntoEnv(env: NodeJS.ProcessEnv = process.env, client?: SecretsManagerClient): Promise<string[]> {
  const raw = env.RIVET_SECRETS;
  if (!raw) return [];
  let mapping: Record<string, string>;
  try {
    mapping = JSON.parse(raw) as Record<string, string>;
  } catch {
    throw new RivetError('CONFIG_INVALID', 'RIVET_SECRETS is not a JSON object of ENV_NAME → secret id', { hint: 'redeploy the stack: it writes this variable' });
  }
  // Imported here, not at the top: the local `rivet run` loads this module and never sets RIVET_SECRETS.
  const { GetSecretValueCommand, SecretsManagerClient: Client } = await import('@aws-sdk/client-secrets-manager');
  const sm = client ?? new Client({});
  const loaded: string[] = [];
  for (const [name, ref] of Object.entries(mapping)) {
    if (env[name] !== undefined) continue;
    const hash = ref.lastIndexOf('#');
    const secretId = hash > 0 ? ref.slice(0, hash) : ref;
    const field = hash > 0 ? ref.slice(hash + 1) : undefined;
    let value: string | undefined;
    try {
      const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
      value = out.SecretString;
    } catch (e) {
      const code = (e as { name?: string }).name ?? 'error';
      throw new RivetError('CONFIG_INVALID', `secret ${secretId} (for ${name}) cannot be read: ${code}`, {
        hint:
          code === 'ResourceNotFoundException'
            ? 'create the secret, or fix its id under `secrets:` in rivet.deploy.yaml and redeploy'
            : 'check that the function role may call secretsmanager:GetSecretValue on it (the stack grants it) and that it is not scheduled for deletion',
        cause: e,
      });
    }
    if (value === undefined) {
      throw new RivetError('CONFIG_INVALID', `secret ${secretId} (for ${name}) has no string value`, { hint: 'store the value as a secret string, not binary' });
    }
    if (field !== undefined) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(value) as Record<string, unknown>;
      } catch {
        throw new RivetError('CONFIG_INVALID', `secret ${secretId} (for ${name}) is not JSON, so it has no field '${field}'`, { hint: 'drop the #field suffix, or store the secret as JSON' });
      }
      const picked = obj[field];
      if (picked === undefined || picked === null) {
        throw new RivetError('CONFIG_INVALID', `secret ${secretId} (for ${name}) has no field '${field}'`, { hint: `fields present: ${Object.keys(obj).join(', ')}` });
      }
      value = String(picked);
    }
    registerSecret(value);
    env[name] = value;
    loaded.push(name);
  }
  return loaded;
}
