import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/log/logger.js';
import { notifySlack, type ExportOutcome } from '../../../shared/notify/slack-notifier.js';

// A real HTTP server on loopback stands in for Slack: it records what it receives, and can
// answer with an error or not answer at all.
let server: Server;
let base: string;
let received: { path: string; contentType: string | undefined; body: unknown }[] = [];
let behaviour: 'ok' | 'error' | 'hang' = 'ok';

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      if (behaviour === 'hang') return; // never answers
      res.writeHead(behaviour === 'ok' ? 200 : 500, { 'content-type': 'text/plain' });
      res.end(behaviour === 'ok' ? 'ok' : 'invalid_payload');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received = [];
  behaviour = 'ok';
});

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', sink: (l) => lines.push(l) }) };
}

const failed: ExportOutcome = { runId: 'orders-20261207T000000Z-abc', exportName: 'orders', status: 'failed', rows: 0, durationMs: 1234, error: 'relation "orders" does not exist' };
const succeeded: ExportOutcome = { ...failed, status: 'success', rows: 42, error: undefined };

describe('notifySlack (a real HTTP server on loopback)', () => {
  it('posts one Slack attachment for a failed export', async () => {
    const { lines, log } = capture();
    const secretPath = '/services/T000/B000/secret-token-xyz';
    expect(await notifySlack({ webhook_url: base + secretPath, on: ['failure'] }, failed, log)).toBe('sent');
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe(secretPath);
    expect(received[0].contentType).toBe('application/json');
    expect(received[0].body).toEqual({
      attachments: [
        {
          color: '#e74c3c',
          title: 'Rivet: orders-20261207T000000Z-abc',
          text: '*orders* | status: `failed` | rows: 0 | duration: 1234ms\nerror: relation "orders" does not exist',
          footer: 'rivet export notification',
        },
      ],
    });
    expect(lines).toEqual([]);
  });

  it('sends nothing when no trigger fires (success with on: [failure]; on: [] by default)', async () => {
    const { log } = capture();
    expect(await notifySlack({ webhook_url: base, on: ['failure'] }, succeeded, log)).toBe('skipped');
    expect(await notifySlack({ webhook_url: base, on: [] }, failed, log)).toBe('skipped');
    expect(await notifySlack(undefined, failed, log)).toBe('skipped');
    expect(received).toHaveLength(0);
  });

  it('fires schema_change on a successful run whose schema changed, in the other colour', async () => {
    const { log } = capture();
    expect(await notifySlack({ webhook_url: base, on: ['schema_change'] }, { ...succeeded, schemaChanged: true }, log)).toBe('sent');
    const a = (received[0].body as { attachments: { color: string; text: string }[] }).attachments[0];
    expect(a.color).toBe('#f39c12');
    expect(a.text).toBe('*orders* | status: `success` | rows: 42 | duration: 1234ms\nthe schema changed in this run');
  });

  it('reads the URL from webhook_url_env, and only WARNs when that variable is unset', async () => {
    const { lines, log } = capture();
    expect(await notifySlack({ webhook_url_env: 'RIVET_TEST_HOOK', on: ['failure'] }, failed, log, { RIVET_TEST_HOOK: base + '/from-env' })).toBe('sent');
    expect(received[0].path).toBe('/from-env');
    expect(await notifySlack({ webhook_url_env: 'RIVET_TEST_HOOK', on: ['failure'] }, failed, log, {})).toBe('skipped');
    expect(lines.join('\n')).toMatch(/WARN.*Slack notification was skipped because RIVET_TEST_HOOK is not set/);
  });

  it('only WARNs when the webhook refuses, is not listening or does not answer in time, and never logs its URL', async () => {
    const { lines, log } = capture();
    const hook = `${base}/services/T1/B1/very-secret-token`;
    behaviour = 'error';
    expect(await notifySlack({ webhook_url: hook, on: ['failure'] }, failed, log)).toBe('failed');
    expect(lines.at(-1)).toMatch(/WARN.*Slack webhook answered HTTP 500/);

    behaviour = 'hang';
    const started = Date.now();
    expect(await notifySlack({ webhook_url: hook, on: ['failure'] }, failed, log, process.env, 300)).toBe('failed');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(lines.at(-1)).toMatch(/WARN.*Slack notification failed \(no answer within 300 ms\)/);

    // A port nobody listens on.
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    expect(await notifySlack({ webhook_url: `http://127.0.0.1:${deadPort}/services/T2/B2/another-secret`, on: ['failure'] }, failed, log)).toBe('failed');
    expect(lines.at(-1)).toMatch(/WARN.*Slack notification failed \(ECONNREFUSED\)/);

    const all = lines.join('\n');
    expect(all).not.toContain('very-secret-token');
    expect(all).not.toContain('another-secret');
    expect(all).not.toContain(base);
  });
});
