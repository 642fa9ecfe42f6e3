import type { Logger } from '../log/logger.js';
import { redact, registerSecret } from '../log/redact.js';

/** `notifications.slack` as written in the config. */
export interface SlackConfig {
  webhook_url?: string;
  webhook_url_env?: string;
  on: readonly ('failure' | 'schema_change' | 'degraded')[];
}

/** What one export job ended as, for the message. */
export interface ExportOutcome {
  runId: string;
  exportName: string;
  status: string;
  rows: number;
  durationMs: number;
  error?: string;
  schemaChanged?: boolean;
}

export const SLACK_TIMEOUT_MS = 10_000;
const FAILED_COLOR = '#e74c3c';
const OTHER_COLOR = '#f39c12';

/** Which configured triggers this outcome fires (empty: nothing is sent). */
export function firedTriggers(config: SlackConfig, outcome: ExportOutcome): string[] {
  const fired: string[] = [];
  if (config.on.includes('failure') && outcome.status === 'failed') fired.push('failure');
  if (config.on.includes('schema_change') && outcome.schemaChanged === true) fired.push('schema_change');
  if (config.on.includes('degraded') && outcome.status === 'degraded') fired.push('degraded');
  return fired;
}

/** The Slack message: one attachment, in the shape Slack's incoming webhooks take. */
export function slackPayload(outcome: ExportOutcome): { attachments: { color: string; title: string; text: string; footer: string }[] } {
  const lines = [`*${outcome.exportName}* | status: \`${outcome.status}\` | rows: ${outcome.rows} | duration: ${outcome.durationMs}ms`];
  if (outcome.error) lines.push(`error: ${redact(outcome.error)}`);
  if (outcome.schemaChanged) lines.push('the schema changed in this run');
  return {
    attachments: [
      {
        color: outcome.status === 'failed' ? FAILED_COLOR : OTHER_COLOR,
        title: `Rivet: ${outcome.runId}`,
        text: lines.join('\n'),
        footer: 'rivet export notification',
      },
    ],
  };
}

/**
 * Posts the export's outcome to Slack when one of the configured triggers fires. A
 * notification never changes how a run ends: a missing env var, a refused or slow webhook
 * (10 s) only WARN. The webhook URL is a credential (whoever holds it can post), so it is
 * registered as a secret and never appears in a message.
 */
export async function notifySlack(config: SlackConfig | undefined, outcome: ExportOutcome, log: Logger, env: NodeJS.ProcessEnv = process.env, timeoutMs = SLACK_TIMEOUT_MS): Promise<'sent' | 'skipped' | 'failed'> {
  if (!config || firedTriggers(config, outcome).length === 0) return 'skipped';
  let url = config.webhook_url;
  if (!url && config.webhook_url_env) {
    url = env[config.webhook_url_env];
    if (!url) {
      log.warn(`export '${outcome.exportName}': the Slack notification was skipped because ${config.webhook_url_env} is not set`);
      return 'skipped';
    }
  }
  if (!url) {
    log.warn(`export '${outcome.exportName}': the Slack notification was skipped: notifications.slack has neither webhook_url nor webhook_url_env`);
    return 'skipped';
  }
  registerSecret(url);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackPayload(outcome)),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Drain the body so the socket is released; its text is not needed.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) {
      log.warn(`export '${outcome.exportName}': the Slack webhook answered HTTP ${res.status}; the notification was not delivered`);
      return 'failed';
    }
    return 'sent';
  } catch (e) {
    const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs >= 1000 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`}` : describeFetchError(e);
    log.warn(`export '${outcome.exportName}': the Slack notification failed (${redact(reason)})`);
    return 'failed';
  }
}

/** fetch's "fetch failed" hides the reason (refused, DNS, TLS) in `cause`; the URL itself is never shown. */
function describeFetchError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}
