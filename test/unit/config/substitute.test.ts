import { describe, expect, it } from 'vitest';
import { substituteVariables } from '../../../shared/config/substitute.js';
import { isRivetError, type RivetError } from '../../../shared/errors/rivet-error.js';

const strict = (text: string, params: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) =>
  substituteVariables(text, { params, env, strict: true, origin: 'config' });

describe('substituteVariables', () => {
  it('takes params first, then the environment', () => {
    expect(strict('a=${A} b=${B}', { A: 'p' }, { A: 'e', B: 'e2' })).toBe('a=p b=e2');
  });

  it('refuses an unknown name, naming it and explaining why', () => {
    let err: RivetError | undefined;
    try {
      strict('x: ${MISSING_ONE}');
    } catch (e) {
      if (isRivetError(e)) err = e;
    }
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toContain('${MISSING_ONE}');
    expect(err?.message).toContain('silently become an empty string');
    expect(err?.hint).toContain('--param MISSING_ONE=');
  });

  it('accepts an env var set to the empty string', () => {
    expect(strict('[${E}]', {}, { E: '' })).toBe('[]');
  });

  it('expands ${} to the empty string', () => {
    expect(strict('a${}b')).toBe('ab');
  });

  it('leaves an unterminated ${ verbatim and stops scanning', () => {
    expect(strict('${A} then ${B', { A: '1' })).toBe('1 then ${B');
    // The name runs to the next `}`, whatever it contains (reference rule).
    expect(() => strict('x ${UNSET and ${A}', { A: '1' })).toThrow(/\$\{UNSET and \$\{A\}/);
  });

  it('does not rescan substituted text', () => {
    expect(strict('${A}', { A: '${B}', B: 'no' })).toBe('${B}');
    expect(strict('${A}}', { A: '${B' })).toBe('${B}');
  });

  it('has no escape for a literal ${', () => {
    expect(() => strict('$${X}')).toThrow(/\$\{X\}/);
    expect(strict('$$ and $ {X}')).toBe('$$ and $ {X}');
  });

  it('keeps unknown names in lenient mode', () => {
    expect(substituteVariables('${A} ${B}', { params: { A: '1' }, strict: false, origin: 'q' })).toBe('1 ${B}');
  });

  it('says "environment variable" only when no params are in play', () => {
    expect(() => substituteVariables('${Z}', { env: {}, strict: true, origin: 'source.url' })).toThrow(/source\.url: .*environment variable Z is not set/);
  });
});
