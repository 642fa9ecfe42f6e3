import { describe, expect, it } from 'vitest';
import { BatchPump } from '../../../shared/source/batch-pump.js';

async function take<B>(it: AsyncGenerator<B>, n: number): Promise<B[]> {
  const out: B[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('BatchPump', () => {
  it('hands batches on in order and asks the driver to resume only when none is waiting', async () => {
    let resumes = 0;
    const pump = new BatchPump<string>(() => {
      resumes++;
      if (resumes === 1) {
        pump.push('a');
        pump.push('b');
      } else {
        pump.end();
      }
    });
    const got: string[] = [];
    for await (const b of pump.batches(undefined, 0)) got.push(b);
    expect(got).toEqual(['a', 'b']);
    expect(resumes).toBe(2);
    expect(pump.ended).toBe(true);
  });

  it('a failure surfaces after the batches pushed before it; the first failure wins', async () => {
    const pump = new BatchPump<string>(() => undefined);
    pump.push('a');
    pump.fail(new Error('first'));
    pump.end(new Error('second'));
    const it = pump.batches(undefined, 0);
    expect(await take(it, 1)).toEqual(['a']);
    await expect(it.next()).rejects.toThrow('first');
  });

  it('ends without a failure when the driver ends cleanly with nothing queued', async () => {
    const pump = new BatchPump<string>(() => pump.end());
    expect(await take(pump.batches(undefined, 0), 5)).toEqual([]);
  });

  it('an abort wakes a waiting consumer, which stops with the signal reason', async () => {
    const ac = new AbortController();
    const pump = new BatchPump<string>(() => undefined);
    const it = pump.batches(ac.signal, 0);
    const next = it.next();
    ac.abort(new Error('stop'));
    pump.notify();
    await expect(next).rejects.toThrow('stop');
  });
});
