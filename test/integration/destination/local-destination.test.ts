import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLocalDestination } from '../../../shared/destination/local-destination.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('local destination', () => {
  it('publishes a part only on commit, never half-written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-local-'));
    const dest = openLocalDestination(join(dir, 'nested/out'));
    const part = await dest.openPart('part-000001.csv');
    await part.write(bytes('a,b\n'));
    expect(await dest.head('part-000001.csv')).toBeNull();
    expect((await dest.list()).map((o) => o.key)).toEqual([]);
    expect(await part.commit()).toEqual({ sizeBytes: 4 });
    expect(await readFile(join(dir, 'nested/out/part-000001.csv'), 'utf8')).toBe('a,b\n');
    expect((await readdir(join(dir, 'nested/out'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to replace a committed part', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-local-'));
    const dest = openLocalDestination(dir);
    const first = await dest.openPart('part-000001.csv');
    await first.write(bytes('first'));
    await first.commit();
    const second = await dest.openPart('part-000001.csv');
    await second.write(bytes('second'));
    await expect(second.commit()).rejects.toThrow(/already exists/);
    expect(await readFile(join(dir, 'part-000001.csv'), 'utf8')).toBe('first');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('aborts without leaving files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-local-'));
    const dest = openLocalDestination(dir);
    const part = await dest.openPart('part-000001.csv');
    await part.write(bytes('x'));
    await part.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('puts, gets, lists recursively, moves and deletes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-local-'));
    const dest = openLocalDestination(dir);
    await dest.put('manifest.json', '{}');
    await dest.put('manifest.json', '{"v":2}');
    await expect(dest.put('manifest.json', 'x', { ifAbsent: true })).rejects.toThrow(/already exists/);
    expect(new TextDecoder().decode((await dest.get('manifest.json'))!)).toBe('{"v":2}');
    expect(await dest.get('missing')).toBeNull();
    await dest.put('_rivet/runs/r1/plan.json', '{}');
    expect((await dest.list()).map((o) => o.key)).toEqual(['_rivet/runs/r1/plan.json', 'manifest.json']);
    expect((await dest.list('_rivet/')).map((o) => o.key)).toEqual(['_rivet/runs/r1/plan.json']);
    await dest.move('manifest.json', '_superseded/r0/manifest.json');
    expect(await dest.head('manifest.json')).toBeNull();
    expect((await dest.head('_superseded/r0/manifest.json'))?.sizeBytes).toBe(7);
    await dest.delete('_superseded/r0/manifest.json');
    await dest.delete('does-not-exist');
    expect(dest.uri).toMatch(/^file:\/\//);
  });

  it('refuses keys that escape the root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rivet-local-'));
    const dest = openLocalDestination(dir);
    await expect(dest.put('../escape.txt', 'x')).rejects.toThrow(/outside the destination/);
  });

  it('fails cleanly, without hanging, where a directory cannot be created (a path under /proc)', async () => {
    const dest = openLocalDestination('/proc/rivet-cannot-create-here');
    await expect(dest.put('x/plan.json', '{}')).rejects.toThrow(/cannot create directory \/proc\/rivet-cannot-create-here/);
    await expect(dest.openPart('part-000001.csv')).rejects.toThrow(/cannot create directory/);
  }, 10_000);
});
