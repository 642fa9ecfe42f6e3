/**
 * The one redaction point. Everything that leaves the process as text (log lines, errors,
 * summaries, manifests, plan files) goes through `redact` first.
 *
 * URL userinfo with a password becomes `REDACTED` (the user name goes too: it is half a
 * credential). Unlike the reference tool, the userinfo ends at the LAST `@` before the
 * host, so a password containing `@` does not leak its tail. Values registered with
 * `registerSecret` (passwords and keys read from env vars or files) are masked verbatim.
 */

const secrets = new Set<string>();

/** Remember a secret value so that it is masked wherever it later appears. Short values are ignored (too many false hits). */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

const URL_WITH_USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#]*)@(?=[^\s@/?#]*(?:[\s/?#]|$))/g;

export function redact(text: string): string {
  let out = text.replace(URL_WITH_USERINFO, (whole, scheme: string, userinfo: string) =>
    userinfo.includes(':') ? `${scheme}REDACTED@` : whole,
  );
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
    const enc = encodeURIComponent(s);
    if (enc !== s && out.includes(enc)) out = out.split(enc).join('***');
  }
  return out;
}
