import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from '../../../shared/log/redact.js';

describe('redact', () => {
  it('removes user and password from URLs', () => {
    expect(redact('connect postgresql://alice:s3cret@db:5432/x failed')).toBe('connect postgresql://REDACTED@db:5432/x failed');
  });
  it('leaves URLs without a password and plain emails alone', () => {
    expect(redact('postgresql://alice@db/x')).toBe('postgresql://alice@db/x');
    expect(redact('mail alice@example.com')).toBe('mail alice@example.com');
  });
  it('does not leak the tail of a password containing @', () => {
    const out = redact('mysql://u:p@ss@host:3306/db');
    expect(out).toBe('mysql://REDACTED@host:3306/db');
    expect(out).not.toContain('ss@');
  });
  it('is idempotent', () => {
    const once = redact('postgres://a:b@h/d');
    expect(redact(once)).toBe(once);
  });
  it('masks registered secrets, raw and percent-encoded', () => {
    registerSecret('hunter2/with space');
    expect(redact('password hunter2/with space here')).toBe('password *** here');
    expect(redact('u:hunter2%2Fwith%20space@')).toContain('***');
  });
});
