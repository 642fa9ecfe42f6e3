import { execFileSync } from 'node:child_process';
import { createHash, createHmac, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { openAzureDestination } from '../../../shared/destination/azure-destination.js';
import { openGcsDestination } from '../../../shared/destination/gcs-destination.js';
import { openS3Destination } from '../../../shared/destination/s3-destination.js';
import { errorChain, isRivetError } from '../../../shared/errors/rivet-error.js';
import { silentLogger } from '../../../shared/log/logger.js';

/*
 * Every authentication mode of docs/destinations/{s3,gcs,azure}.md, exercised for real
 * where an emulator can check it, and otherwise against loopback servers that see what
 * the client sends:
 *
 * - S3: moto accepts any key, so a loopback "S3" records each request and verifies its
 *   SigV4 signature with the secret the mode should have used (proving both the key id
 *   and the secret, never seen on the wire), then answers like S3 (200 + MD5 ETag), or
 *   403 echoing the request's credentials to check nothing leaks into errors.
 * - GCS: fake-gcs-server does not authenticate and Google's token endpoints are fixed
 *   https URLs in the auth library (a key file's `token_uri` is ignored). The client is
 *   sent through a loopback HTTPS proxy that terminates TLS for the token hosts with a
 *   throwaway certificate (certificate checks are off for this file's process only), so
 *   the token exchange itself is observed: grant type, which service account signed the
 *   assertion (verified with its public key) or which OAuth client/refresh token was
 *   used; the token it hands out must then be the Bearer on the storage request.
 * - Azure: azurite checks Shared Key and SAS signatures and SAS permissions for real.
 */

const GCS_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_GCS_PORT ?? 54341}`;
const AZURE_ENDPOINT = `http://127.0.0.1:${process.env.RIVET_TEST_AZURE_PORT ?? 54342}/devstoreaccount1`;
// Azurite's documented development account: public, not a secret.
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const BUCKET = 'rivet-auth';
const runId = randomBytes(4).toString('hex');

const servers: (Server | TlsServer)[] = [];
afterAll(() => servers.forEach((s) => s.close()));

const listen = async (server: Server | TlsServer) => {
  servers.push(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return (server.address() as { port: number }).port;
};

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks)));
  });

/** Environment variables a case sets, restored afterwards (the SDKs read process.env themselves). */
const savedEnv = new Map<string, string | undefined>();
const setEnv = (vars: Record<string, string | undefined>) => {
  for (const [k, v] of Object.entries(vars)) {
    if (!savedEnv.has(k)) savedEnv.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
};
afterEach(() => {
  for (const [k, v] of savedEnv) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  savedEnv.clear();
});

const caught = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

/** The error, its cause, and its stack carry none of the secrets. */
const expectClean = (err: unknown, secrets: string[]) => {
  expect(isRivetError(err)).toBe(true);
  const texts = [errorChain(err), JSON.stringify(err), String((err as Error).stack), JSON.stringify((err as Error).cause ?? null)];
  for (const t of texts) for (const s of secrets) expect(t).not.toContain(s);
};

// ---------------------------------------------------------------------------------------
// S3
// ---------------------------------------------------------------------------------------

interface SeenS3 {
  keyId: string;
  region: string;
  token: string | undefined;
  headers: IncomingMessage['headers'];
  method: string;
  url: string;
}

/** Verify a SigV4-signed request with `secret`: recompute the signature from what was received. */
function sigV4Valid(seen: SeenS3, secret: string): boolean {
  const auth = String(seen.headers.authorization);
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return false;
  const [, , date, region, service, signedHeaders, signature] = m;
  const [path, query = ''] = seen.url.split('?');
  const canonicalQuery = query
    .split('&')
    .filter((p) => p)
    .map((p) => (p.includes('=') ? p : `${p}=`))
    .sort()
    .join('&');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((h) => `${h}:${String(seen.headers[h]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [seen.method, path, canonicalQuery, canonicalHeaders, signedHeaders, String(seen.headers['x-amz-content-sha256'])].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', String(seen.headers['x-amz-date']), scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex') === signature;
}

describe('S3 auth modes (loopback S3 verifying SigV4; moto does not authenticate)', () => {
  const seen: SeenS3[] = [];
  let reject = false;
  let endpoint = '';
  let home = '';

  beforeAll(async () => {
    const server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const auth = String(req.headers.authorization ?? '');
        const cred = /Credential=([^/]+)\/\d{8}\/([^/]+)\//.exec(auth);
        const token = req.headers['x-amz-security-token'] as string | undefined;
        seen.push({ keyId: cred?.[1] ?? '', region: cred?.[2] ?? '', token, headers: req.headers, method: req.method ?? '', url: req.url ?? '' });
        if (reject) {
          // A hostile or verbose store quoting the request's credentials back.
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0"?><Error><Code>InvalidAccessKeyId</Code><Message>rejected ${auth} token ${token}</Message></Error>`);
          return;
        }
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
        res.end();
      });
    });
    endpoint = `http://127.0.0.1:${await listen(server)}`;
    home = await mkdtemp(join(tmpdir(), 'rivet-auth-aws-'));
  });
  afterEach(() => {
    seen.length = 0;
    reject = false;
  });

  /** No ambient AWS configuration may decide a case: only what the case sets. */
  const cleanAws = (extra: Record<string, string | undefined> = {}) =>
    setEnv({
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_CONFIG_FILE: join(home, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      ...extra,
    });

  let profileN = 0;
  /** A fresh credentials/config pair (the SDK caches shared files by path). */
  const writeProfile = async (name: string, keyId: string, secret: string, token?: string) => {
    const dir = join(home, `p${++profileN}`);
    await mkdir(dir);
    const credentials = join(dir, 'credentials');
    const config = join(dir, 'config');
    await writeFile(
      credentials,
      `[default]\naws_access_key_id = AKIADEFAULTPROFILE01\naws_secret_access_key = default-profile-secret\n\n[${name}]\naws_access_key_id = ${keyId}\naws_secret_access_key = ${secret}\n${token ? `aws_session_token = ${token}\n` : ''}`,
    );
    await writeFile(config, `[default]\nregion = us-east-1\n\n[profile ${name}]\nregion = eu-west-3\n`);
    return { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config };
  };

  it('static keys: the request is signed with the configured key id and secret, without a session token', async () => {
    cleanAws({ AWS_ACCESS_KEY_ID: 'AKIAAMBIENTSHOULDNOTWIN' });
    const env = { AK: 'AKIASTATICKEY0000001', SK: `static-secret-${runId}` };
    const dest = openS3Destination({ bucket: BUCKET, endpoint, accessKeyEnv: 'AK', secretKeyEnv: 'SK', maxAttempts: 1, env });
    await dest.put('x.csv', 'a,b\n');
    expect(seen).toHaveLength(1);
    expect(seen[0].keyId).toBe(env.AK);
    expect(seen[0].region).toBe('us-east-1');
    expect(seen[0].token).toBeUndefined();
    expect(sigV4Valid(seen[0], env.SK)).toBe(true);
    expect(sigV4Valid(seen[0], 'another-secret')).toBe(false);
  });

  it('static keys + session token: X-Amz-Security-Token carries the token; an echoing 403 leaks none of the three', async () => {
    cleanAws();
    const env = { AK: 'ASIATEMPORARYKEY0001', SK: `temp-secret-${runId}`, ST: `FwoGZXIvYXdzEXAMPLETOKEN${runId}` };
    const open = () => openS3Destination({ bucket: BUCKET, endpoint, accessKeyEnv: 'AK', secretKeyEnv: 'SK', sessionTokenEnv: 'ST', maxAttempts: 1, env });
    await open().put('x.csv', 'a,b\n');
    expect(seen[0].keyId).toBe(env.AK);
    expect(seen[0].token).toBe(env.ST);
    expect(String(seen[0].headers.authorization)).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
    expect(sigV4Valid(seen[0], env.SK)).toBe(true);
    reject = true;
    const err = await caught(open().put('y.csv', 'a,b\n'));
    expect(errorChain(err)).toMatch(/HTTP 403/);
    expectClean(err, Object.values(env));
  });

  it('aws_profile: the profile from AWS_SHARED_CREDENTIALS_FILE signs (not [default], not AWS_ACCESS_KEY_ID), its session token is sent', async () => {
    const secret = `profile-secret-${runId}`;
    const token = `ProfileSessionToken${runId}`;
    cleanAws({
      ...(await writeProfile('rivet-analytics', 'AKIAPROFILEKEY000001', secret, token)),
      // The env credentials would win in the default chain; an explicit profile must not use them.
      AWS_ACCESS_KEY_ID: 'AKIAAMBIENTSHOULDNOTWIN',
      AWS_SECRET_ACCESS_KEY: 'ambient-secret',
    });
    const open = () => openS3Destination({ bucket: BUCKET, endpoint, awsProfile: 'rivet-analytics', maxAttempts: 1 });
    await open().put('x.csv', 'a,b\n');
    expect(seen[0].keyId).toBe('AKIAPROFILEKEY000001');
    expect(seen[0].token).toBe(token);
    expect(sigV4Valid(seen[0], secret)).toBe(true);
    // With `endpoint` and no `region`, rivet pins us-east-1 (the profile's region is not used).
    expect(seen[0].region).toBe('us-east-1');
    reject = true;
    const err = await caught(open().put('y.csv', 'a,b\n'));
    expect(errorChain(err)).toMatch(/HTTP 403/);
    expectClean(err, [secret, token]);
  });

  it('aws_profile naming a profile the files do not have fails as a destination error, without a request', async () => {
    cleanAws(await writeProfile('present', 'AKIAPRESENTPROFILE01', 'present-secret'));
    const err = await caught(openS3Destination({ bucket: BUCKET, endpoint, awsProfile: 'absent', maxAttempts: 1 }).put('x.csv', 'a'));
    expect(isRivetError(err) && err.code).toBe('DESTINATION');
    // The SDK's chain reports only that no provider succeeded; it does not fall back to [default].
    expect(errorChain(err)).toMatch(/Could not load credentials/);
    expect(seen).toHaveLength(0);
  });

  it('default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN from the environment sign the request', async () => {
    const secret = `env-chain-secret-${runId}`;
    const token = `EnvChainToken${runId}`;
    cleanAws({
      ...(await writeProfile('unused', 'AKIAUNUSEDPROFILE001', 'unused')),
      AWS_ACCESS_KEY_ID: 'AKIAENVCHAINKEY00001',
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: token,
    });
    const open = () => openS3Destination({ bucket: BUCKET, endpoint, maxAttempts: 1 });
    await open().put('x.csv', 'a,b\n');
    expect(seen[0].keyId).toBe('AKIAENVCHAINKEY00001');
    expect(seen[0].token).toBe(token);
    expect(sigV4Valid(seen[0], secret)).toBe(true);
    reject = true;
    const err = await caught(open().put('y.csv', 'a,b\n'));
    expect(errorChain(err)).toMatch(/HTTP 403/);
    expectClean(err, [secret, token]);
  });

  it('default chain: without env keys, the [default] profile of the shared files signs', async () => {
    cleanAws(await writeProfile('other', 'AKIAOTHERPROFILE0001', 'other'));
    await openS3Destination({ bucket: BUCKET, endpoint, maxAttempts: 1 }).put('x.csv', 'a,b\n');
    expect(seen[0].keyId).toBe('AKIADEFAULTPROFILE01');
    expect(sigV4Valid(seen[0], 'default-profile-secret')).toBe(true);
  });

  it('half a key pair is a config error before any request', () => {
    expect(() => openS3Destination({ bucket: BUCKET, endpoint, accessKeyEnv: 'AK', env: { AK: 'x' } })).toThrow(/both `access_key_env` and `secret_key_env`, or neither/);
  });
});

// ---------------------------------------------------------------------------------------
// GCS
// ---------------------------------------------------------------------------------------

interface TokenRequest {
  host: string;
  path: string;
  form: URLSearchParams;
}

/** Decode and verify an RS256 JWT with `publicKey`; returns its claims, or null when the signature is wrong. */
function verifyJwt(jwt: string, publicKey: KeyObject): Record<string, unknown> | null {
  const [h, p, s] = jwt.split('.');
  const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url'));
  return ok ? (JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>) : null;
}

describe('GCS auth modes (token exchange observed through a loopback TLS-terminating proxy)', () => {
  const tokenRequests: TokenRequest[] = [];
  const apiAuth: (string | undefined)[] = [];
  let tokenReply: (req: TokenRequest) => { status: number; body: string } = () => ({ status: 500, body: '{}' });
  let apiEndpoint = '';
  let proxyUrl = '';
  let dir = '';
  const serviceAccount = (email: string) => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return {
      publicKey,
      pem,
      json: {
        type: 'service_account',
        project_id: 'rivet-test',
        private_key_id: `kid-${email.split('@')[0]}`,
        private_key: pem,
        client_email: email,
        client_id: '1',
        // Ignored by the auth library (its token URL is fixed); kept as a real key file has it.
        token_uri: 'https://oauth2.googleapis.com/token',
      },
    };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rivet-auth-gcs-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '1', '-subj', '/CN=oauth2.googleapis.com'], {
      stdio: 'ignore',
    });
    const tls = createTlsServer({ key: await readFile(join(dir, 'tls.key')), cert: await readFile(join(dir, 'tls.crt')) });
    // The TLS side of the proxy: an HTTP server speaking over each decrypted tunnel.
    const tokenHttp = createServer((req, res) => {
      void readBody(req).then((body) => {
        const tr: TokenRequest = { host: String(req.headers.host), path: req.url ?? '', form: new URLSearchParams(body.toString()) };
        tokenRequests.push(tr);
        const r = tokenReply(tr);
        res.writeHead(r.status, { 'content-type': 'application/json' });
        res.end(r.body);
      });
    });
    tls.on('secureConnection', (sock) => tokenHttp.emit('connection', sock));
    const tlsPort = await listen(tls);
    servers.push(tokenHttp);
    const proxy = createServer((_req, res) => {
      res.writeHead(502);
      res.end();
    });
    proxy.on('connect', (req: IncomingMessage, sock) => {
      const target = String(req.url);
      if (!/^(oauth2|www)\.googleapis\.com:443$/.test(target)) {
        // The VM metadata server (169.254.169.254) and anything else: unreachable, fast.
        sock.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const upstream = connect(tlsPort, '127.0.0.1', () => {
        sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(sock);
        sock.pipe(upstream);
      });
      upstream.on('error', () => sock.destroy());
      sock.on('error', () => upstream.destroy());
    });
    proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
    const api = createServer((req, res) => {
      apiAuth.push(req.headers.authorization);
      // A storage API that has no such object: `head` resolves to null.
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":404,"message":"No such object"}}');
    });
    apiEndpoint = `http://127.0.0.1:${await listen(api)}`;
  });
  afterEach(() => {
    tokenRequests.length = 0;
    apiAuth.length = 0;
  });

  /** Route the auth library through the proxy, trust its certificate, and leave no ambient ADC. */
  const viaProxy = (extra: Record<string, string | undefined> = {}) =>
    setEnv({
      HTTPS_PROXY: proxyUrl,
      https_proxy: undefined,
      HTTP_PROXY: undefined,
      http_proxy: undefined,
      NO_PROXY: '127.0.0.1',
      no_proxy: undefined,
      NODE_TLS_REJECT_UNAUTHORIZED: '0',
      GOOGLE_APPLICATION_CREDENTIALS: undefined,
      CLOUDSDK_CONFIG: undefined,
      GCE_METADATA_HOST: undefined,
      HOME: join(dir, 'empty-home'),
      ...extra,
    });

  const issue = (token: string) => () => ({ status: 200, body: JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }) });

  const expectServiceAccountGrant = (sa: ReturnType<typeof serviceAccount>) => {
    expect(tokenRequests).toHaveLength(1);
    const tr = tokenRequests[0];
    expect(`${tr.host}${tr.path}`).toBe('www.googleapis.com/oauth2/v4/token');
    expect(tr.form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const claims = verifyJwt(tr.form.get('assertion') ?? '', sa.publicKey);
    expect(claims, 'the assertion is signed by this service account key').not.toBeNull();
    expect(claims?.iss).toBe(sa.json.client_email);
    expect(String(claims?.scope)).toMatch(/devstorage/);
  };

  it('credentials_file: the service account in the file is exchanged for a token that then authorizes the request', async () => {
    const sa = serviceAccount('rivet-file@rivet-test.iam.gserviceaccount.com');
    const other = serviceAccount('ambient@rivet-test.iam.gserviceaccount.com');
    const keyFile = join(dir, 'sa-file.json');
    const ambient = join(dir, 'sa-ambient.json');
    await writeFile(keyFile, JSON.stringify(sa.json));
    await writeFile(ambient, JSON.stringify(other.json));
    viaProxy({ GOOGLE_APPLICATION_CREDENTIALS: ambient });
    tokenReply = issue('ya29.file-token');
    const dest = openGcsDestination({ bucket: BUCKET, endpoint: apiEndpoint, credentialsFile: keyFile, maxAttempts: 1 });
    expect(await dest.head('x')).toBeNull();
    expectServiceAccountGrant(sa);
    expect(apiAuth).toEqual(['Bearer ya29.file-token']);
  });

  it('credentials_file: a refused exchange is a destination error carrying no part of the key, even when the endpoint echoes the request', async () => {
    const sa = serviceAccount('rivet-refused@rivet-test.iam.gserviceaccount.com');
    const keyFile = join(dir, 'sa-refused.json');
    await writeFile(keyFile, JSON.stringify(sa.json));
    viaProxy();
    tokenReply = (tr) => ({ status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: `bad assertion ${tr.form.get('assertion')} key ${sa.pem}` }) });
    const err = await caught(openGcsDestination({ bucket: BUCKET, endpoint: apiEndpoint, credentialsFile: keyFile, maxAttempts: 1 }).head('x'));
    expect(isRivetError(err) && err.code).toBe('DESTINATION');
    expect(apiAuth).toEqual([]);
    const pemBody = sa.pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    expectClean(err, [sa.pem, ...pemBody]);
  });

  it('GOOGLE_APPLICATION_CREDENTIALS: a service-account file named by the variable is used when credentials_file is absent', async () => {
    const sa = serviceAccount('rivet-env@rivet-test.iam.gserviceaccount.com');
    const keyFile = join(dir, 'sa-env.json');
    await writeFile(keyFile, JSON.stringify(sa.json));
    viaProxy({ GOOGLE_APPLICATION_CREDENTIALS: keyFile });
    tokenReply = issue('ya29.env-token');
    expect(await openGcsDestination({ bucket: BUCKET, endpoint: apiEndpoint, maxAttempts: 1 }).head('x')).toBeNull();
    expectServiceAccountGrant(sa);
    expect(apiAuth).toEqual(['Bearer ya29.env-token']);
  });

  it('ADC: gcloud user credentials ($HOME/.config/gcloud/application_default_credentials.json) refresh with their OAuth client', async () => {
    const home = join(dir, 'home-adc');
    await mkdir(join(home, '.config', 'gcloud'), { recursive: true });
    const user = { type: 'authorized_user', client_id: 'rivet-adc.apps.googleusercontent.com', client_secret: `adc-client-secret-${runId}`, refresh_token: `1//adc-refresh-${runId}` };
    await writeFile(join(home, '.config', 'gcloud', 'application_default_credentials.json'), JSON.stringify(user));
    viaProxy({ HOME: home });
    tokenReply = issue('ya29.adc-token');
    expect(await openGcsDestination({ bucket: BUCKET, endpoint: apiEndpoint, maxAttempts: 1 }).head('x')).toBeNull();
    expect(tokenRequests).toHaveLength(1);
    const tr = tokenRequests[0];
    expect(`${tr.host}${tr.path}`).toBe('oauth2.googleapis.com/token');
    expect(Object.fromEntries(tr.form)).toMatchObject({ grant_type: 'refresh_token', client_id: user.client_id, client_secret: user.client_secret, refresh_token: user.refresh_token });
    expect(apiAuth).toEqual(['Bearer ya29.adc-token']);
  });

  it('ADC via GOOGLE_APPLICATION_CREDENTIALS (authorized_user): a refused refresh leaks neither the refresh token nor the client secret', async () => {
    const user = { type: 'authorized_user', client_id: 'rivet-env-user.apps.googleusercontent.com', client_secret: `env-client-secret-${runId}`, refresh_token: `1//env-refresh-${runId}` };
    const file = join(dir, 'user-env.json');
    await writeFile(file, JSON.stringify(user));
    viaProxy({ GOOGLE_APPLICATION_CREDENTIALS: file });
    tokenReply = (tr) => ({ status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: `refresh token ${tr.form.get('refresh_token')} for secret ${tr.form.get('client_secret')} is revoked` }) });
    const err = await caught(openGcsDestination({ bucket: BUCKET, endpoint: apiEndpoint, maxAttempts: 1 }).head('x'));
    expect(tokenRequests.map((t) => t.form.get('client_id'))).toEqual([user.client_id]);
    expect(isRivetError(err) && err.code).toBe('DESTINATION');
    expect(apiAuth).toEqual([]);
    expectClean(err, [user.refresh_token, user.client_secret]);
  });

  it('anonymous: no Authorization header and no token exchange; fake-gcs-server accepts the writes', async () => {
    viaProxy();
    expect(await openGcsDestination({ bucket: BUCKET, endpoint: apiEndpoint, allowAnonymous: true, maxAttempts: 1 }).head('x')).toBeNull();
    expect(apiAuth).toEqual([undefined]);
    expect(tokenRequests).toEqual([]);

    const created = await fetch(`${GCS_ENDPOINT}/storage/v1/b?project=rivet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: BUCKET }) });
    expect([200, 409]).toContain(created.status);
    const dest = openGcsDestination({ bucket: BUCKET, prefix: `auth-${runId}/anon`, endpoint: GCS_ENDPOINT, allowAnonymous: true });
    await dest.put('a.txt', 'hello', { ifAbsent: true });
    expect(new TextDecoder().decode((await dest.get('a.txt'))!)).toBe('hello');
  });

  it('anonymous with credentials_file, or a credentials_file that does not exist, is a config error', () => {
    expect(() => openGcsDestination({ bucket: BUCKET, allowAnonymous: true, credentialsFile: join(dir, 'sa-file.json') })).toThrow(/cannot be combined/);
    expect(() => openGcsDestination({ bucket: BUCKET, credentialsFile: join(dir, 'missing.json') })).toThrow(/does not exist/);
  });
});

// ---------------------------------------------------------------------------------------
// Azure
// ---------------------------------------------------------------------------------------

describe('Azure auth modes (azurite checks Shared Key and SAS)', () => {
  const sharedKey = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const publicContainer = `${BUCKET}-public`;
  let n = 0;
  const prefix = () => `auth-${runId}/azure-${++n}`;

  beforeAll(async () => {
    const service = new BlobServiceClient(AZURE_ENDPOINT, sharedKey);
    await service.getContainerClient(BUCKET).createIfNotExists();
    await service.getContainerClient(publicContainer).createIfNotExists({ access: 'container' });
  });

  const containerSas = (permissions: string, expiresOn: Date) =>
    generateBlobSASQueryParameters(
      { containerName: BUCKET, permissions: ContainerSASPermissions.parse(permissions), startsOn: new Date(Date.now() - 5 * 60_000), expiresOn },
      sharedKey,
    ).toString();

  const openWith = (env: Record<string, string>, extra: { accountKeyEnv?: string; sasTokenEnv?: string }, p = prefix()) =>
    openAzureDestination({ bucket: BUCKET, prefix: p, endpoint: AZURE_ENDPOINT, accountName: AZURITE_ACCOUNT, maxAttempts: 1, env, logger: silentLogger, ...extra });

  /** Write, read back, list, quarantine-move and delete: everything a run does. */
  const roundTrip = async (dest: ReturnType<typeof openAzureDestination>) => {
    const part = await dest.openPart('part-000001.csv');
    await part.write(new TextEncoder().encode('a,b\n1,2\n'));
    await part.commit();
    await dest.put('manifest.json', '{}');
    expect(new TextDecoder().decode((await dest.get('part-000001.csv'))!)).toBe('a,b\n1,2\n');
    await dest.move('manifest.json', '_quarantine/r/manifest.json');
    expect((await dest.list()).map((o) => o.key)).toEqual(['_quarantine/r/manifest.json', 'part-000001.csv']);
    await dest.delete('_quarantine/r/manifest.json');
  };

  it('account key: the development key works; a wrong key is refused with 403 and not printed', async () => {
    await roundTrip(openWith({ K: AZURITE_KEY }, { accountKeyEnv: 'K' }));
    const wrong = randomBytes(64).toString('base64');
    const err = await caught(openWith({ K: wrong }, { accountKeyEnv: 'K' }).put('x', 'y'));
    expect(errorChain(err)).toMatch(/HTTP 403/);
    expectClean(err, [wrong]);
  });

  it('SAS token (container SAS from generateBlobSASQueryParameters), pasted with and without the leading "?"', async () => {
    const sas = containerSas('racwdl', new Date(Date.now() + 2 * 3600_000));
    await roundTrip(openWith({ S: sas }, { sasTokenEnv: 'S' }));
    await roundTrip(openWith({ S: `?${sas}` }, { sasTokenEnv: 'S' }));
  });

  it('SAS token (account SAS from generateAccountSASQueryParameters) works too', async () => {
    const sas = generateAccountSASQueryParameters(
      {
        services: AccountSASServices.parse('b').toString(),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        permissions: AccountSASPermissions.parse('rwdlac'),
        expiresOn: new Date(Date.now() + 2 * 3600_000),
      },
      sharedKey,
    ).toString();
    await roundTrip(openWith({ S: `?${sas}` }, { sasTokenEnv: 'S' }));
  });

  it('a SAS without write permission is refused by azurite (403), its signature masked', async () => {
    const sas = containerSas('rl', new Date(Date.now() + 2 * 3600_000));
    const err = await caught(openWith({ S: sas }, { sasTokenEnv: 'S' }).put('x', 'y'));
    expect(errorChain(err)).toMatch(/HTTP 403/);
    const sig = new URLSearchParams(sas).get('sig')!;
    expectClean(err, [sig, encodeURIComponent(sig)]);
  });

  it('an expired SAS is refused before any request (config error, exit 2); azurite refuses it too', async () => {
    const sas = containerSas('racwdl', new Date(Date.now() - 60_000));
    let err: unknown;
    try {
      openWith({ S: `?${sas}` }, { sasTokenEnv: 'S' });
    } catch (e) {
      err = e;
    }
    expect(isRivetError(err) && err.code).toBe('CONFIG_INVALID');
    expect(isRivetError(err) && err.exitCode).toBe(2);
    expect(errorChain(err)).toMatch(/is in the past/);
    expectClean(err, [new URLSearchParams(sas).get('sig')!]);
    // The server-side check rivet's early refusal stands in for.
    const direct = new BlobServiceClient(`${AZURE_ENDPOINT}?${sas}`).getContainerClient(BUCKET).getBlockBlobClient('expired.txt');
    await expect(direct.upload('x', 1)).rejects.toMatchObject({ statusCode: 403 });
  });

  it('anonymous: azurite serves reads and listings of a public container, and refuses anonymous writes', async () => {
    const owner = new BlobServiceClient(AZURE_ENDPOINT, sharedKey).getContainerClient(publicContainer);
    const name = `auth-${runId}/anon/part-000001.csv`;
    await owner.getBlockBlobClient(name).upload('a,b\n', 4);
    const dest = openAzureDestination({ bucket: publicContainer, prefix: `auth-${runId}/anon`, endpoint: AZURE_ENDPOINT, allowAnonymous: true, maxAttempts: 1, logger: silentLogger });
    expect(new TextDecoder().decode((await dest.get('part-000001.csv'))!)).toBe('a,b\n');
    expect((await dest.list()).map((o) => o.key)).toEqual(['part-000001.csv']);
    const err = await caught(dest.put('part-000002.csv', 'x'));
    expect(isRivetError(err) && err.code).toBe('DESTINATION');
    expect(errorChain(err)).toMatch(/HTTP 40[134]/);
    // Anonymous access to a private container is refused even for reads.
    const priv = openAzureDestination({ bucket: BUCKET, endpoint: AZURE_ENDPOINT, allowAnonymous: true, maxAttempts: 1, logger: silentLogger });
    await expect(priv.list()).rejects.toMatchObject({ code: 'DESTINATION' });
  });

  it('configuration errors: key and SAS together, anonymous with an account, no endpoint for anonymous', () => {
    expect(() => openAzureDestination({ bucket: BUCKET, accountName: 'a', accountKeyEnv: 'K', sasTokenEnv: 'S' })).toThrow(/cannot both be set/);
    expect(() => openAzureDestination({ bucket: BUCKET, accountName: 'a', allowAnonymous: true, endpoint: AZURE_ENDPOINT })).toThrow(/excludes/);
    expect(() => openAzureDestination({ bucket: BUCKET, allowAnonymous: true })).toThrow(/needs `endpoint`/);
    expect(() => openAzureDestination({ bucket: BUCKET, accountName: 'a' })).toThrow(/account_key_env` or `sas_token_env/);
  });
});
