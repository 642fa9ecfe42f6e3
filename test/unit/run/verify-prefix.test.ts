import { mkdtemp, mkdir, writeFile, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMD5 } from 'hash-wasm';
import { Field, Int32, RecordBatch, Schema, Struct, makeData, vectorFromArray } from 'apache-arrow';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCheckedFormatWriter } from '../../../shared/format/checked-format-writer.js';
import { openLocalDestination } from '../../../shared/destination/local-destination.js';
import type { Destination } from '../../../shared/destination/destination.js';
import { buildManifest, serializeManifest, successMarker, type Manifest } from '../../../shared/run/manifest.js';
import { xxh3Fingerprint } from '../../../shared/run/part-hasher.js';
import { describeVerificationFailure } from '../../../shared/run/describe-verification-failure.js';
import { verificationFailed, verifyPrefix } from '../../../shared/run/verify-prefix.js';

let root: string;
let dest: Destination;
const PART1 = new TextEncoder().encode('id\n1\n2\n3\n');
const PART2 = new TextEncoder().encode('id\n4\n5\n');

async function md5(bytes: Uint8Array): Promise<string> {
  const h = await createMD5();
  h.init();
  h.update(bytes);
  return Buffer.from(h.digest('binary')).toString('base64');
}

async function part(id: number, path: string, bytes: Uint8Array, rows: number) {
  return { part_id: id, path, rows, size_bytes: bytes.length, content_fingerprint: await xxh3Fingerprint(bytes), content_md5: await md5(bytes), status: 'committed' as const };
}

async function manifestFor(overrides: Partial<Manifest> = {}): Promise<Manifest> {
  const m = buildManifest({
    run_id: 't_20260101T000000.000',
    export_name: 't',
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-01T00:00:01.000Z',
    status: 'success',
    source: { engine: 'postgres', schema: null, table: null },
    destination: { kind: 'local', uri: 'file:///x' },
    format: 'csv',
    compression: 'zstd',
    schema_fingerprint: 'xxh3:0000000000000000',
    parts: [await part(1, 'part-000001.csv', PART1, 3), await part(2, 'part-000002.csv', PART2, 2)],
    mode: 'full',
    columns: [],
  });
  return { ...m, ...overrides };
}

/** A committed dataset exactly as commit.ts leaves it. */
async function commit(m: Manifest, { marker = true } = {}): Promise<Uint8Array> {
  await writeFile(join(root, 'part-000001.csv'), PART1);
  await writeFile(join(root, 'part-000002.csv'), PART2);
  const bytes = serializeManifest(m);
  await writeFile(join(root, 'manifest.json'), bytes);
  if (marker) await writeFile(join(root, '_SUCCESS'), await successMarker(bytes));
  return bytes;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rivet-verify-'));
  dest = openLocalDestination(root);
});

describe('verifyPrefix', () => {
  it('passes a committed dataset, checking every part by content (xxh3 and md5)', async () => {
    await commit(await manifestFor());
    const v = await verifyPrefix(dest);
    expect(v).toMatchObject({
      manifest_found: true,
      legacy_run: false,
      parts_verified: 2,
      parts_md5_verified: 2,
      parts_content_verified: 2,
      parts_failed: 0,
      success_marker_consistent: true,
      manifest_self_consistent: true,
      passed: true,
      failures: [],
      run_id: 't_20260101T000000.000',
      row_count: 5,
    });
    expect(verificationFailed(v)).toBe(false);
  });

  it('ignores rivet bookkeeping and reports foreign objects as advisory only', async () => {
    await commit(await manifestFor());
    await mkdir(join(root, '_rivet/runs/r1/receipts'), { recursive: true });
    await writeFile(join(root, '_rivet/runs/r1/plan.json'), '{}');
    await mkdir(join(root, '_superseded/r1'), { recursive: true });
    await writeFile(join(root, '_superseded/r1/part-000000.csv'), 'x');
    await writeFile(join(root, 'stray.txt'), 'hello');
    const v = await verifyPrefix(dest);
    expect(v.passed).toBe(true);
    expect(v.failures).toEqual([{ kind: 'untracked_object', key: 'stray.txt', size_bytes: 5 }]);
  });

  it('a missing part', async () => {
    await commit(await manifestFor());
    await rm(join(root, 'part-000002.csv'));
    const v = await verifyPrefix(dest);
    expect(v.passed).toBe(false);
    expect(v.parts_verified).toBe(1);
    expect(v.parts_failed).toBe(1);
    expect(v.failures).toEqual([{ kind: 'part_missing', part_id: 2, path: 'part-000002.csv' }]);
    expect(describeVerificationFailure(v.failures[0])).toBe('part 2 (part-000002.csv) is missing: the manifest lists it but the destination does not have it');
  });

  it('a part of the wrong size', async () => {
    await commit(await manifestFor());
    await writeFile(join(root, 'part-000001.csv'), 'id\n1\n');
    const v = await verifyPrefix(dest);
    expect(v.failures).toEqual([{ kind: 'part_size_mismatch', part_id: 1, path: 'part-000001.csv', expected: PART1.length, actual: 5 }]);
  });

  it('a part changed in place at the same size is caught by its content fingerprint', async () => {
    await commit(await manifestFor());
    const flipped = PART1.slice();
    flipped[3] = '9'.charCodeAt(0);
    await writeFile(join(root, 'part-000001.csv'), flipped);
    const v = await verifyPrefix(dest);
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([
      { kind: 'part_content_mismatch', part_id: 1, path: 'part-000001.csv', expected: await xxh3Fingerprint(PART1), actual: await xxh3Fingerprint(flipped) },
    ]);
  });

  it('an MD5 that disagrees while xxh3 agrees (edited manifest) is a checksum mismatch', async () => {
    const m = await manifestFor();
    m.parts[1] = { ...m.parts[1], content_md5: 'AAAAAAAAAAAAAAAAAAAAAA==' };
    await commit(m);
    const v = await verifyPrefix(dest);
    expect(v.failures.map((f) => f.kind)).toEqual(['part_checksum_mismatch']);
    expect(v.parts_md5_verified).toBe(1);
  });

  it('an empty content_md5 is not compared', async () => {
    const m = await manifestFor();
    m.parts = m.parts.map((p) => ({ ...p, content_md5: '' }));
    await commit(m);
    const v = await verifyPrefix(dest);
    expect(v.passed).toBe(true);
    expect(v.parts_md5_verified).toBe(0);
    expect(v.parts_content_verified).toBe(2);
  });

  it('a stale _SUCCESS (manifest replaced after the marker)', async () => {
    const bytes = await commit(await manifestFor());
    const edited = new TextDecoder().decode(bytes).replace('2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z');
    await writeFile(join(root, 'manifest.json'), edited);
    const v = await verifyPrefix(dest);
    expect(v.success_marker_consistent).toBe(false);
    expect(v.failures).toEqual([
      { kind: 'success_marker_stale', marker_fingerprint: await xxh3Fingerprint(bytes), manifest_fingerprint: await xxh3Fingerprint(edited) },
    ]);
  });

  it.each([
    ['uppercase hex', 'xxh3:ABCDEF0123456789\n', 'xxh3:ABCDEF0123456789\n'],
    ['wrong length', 'xxh3:abc\n', 'xxh3:abc\n'],
    ['long garbage is previewed to 40 chars', 'x'.repeat(60), `${'x'.repeat(40)}…`],
  ])('a malformed _SUCCESS (%s)', async (_label, body, preview) => {
    await commit(await manifestFor(), { marker: false });
    await writeFile(join(root, '_SUCCESS'), body);
    const v = await verifyPrefix(dest);
    expect(v.failures).toEqual([{ kind: 'success_marker_malformed', body_preview: preview }]);
  });

  it('a _SUCCESS that is not UTF-8 is malformed', async () => {
    await commit(await manifestFor(), { marker: false });
    await writeFile(join(root, '_SUCCESS'), Buffer.from([0xff, 0xfe, 0x00]));
    expect((await verifyPrefix(dest)).failures.map((f) => f.kind)).toEqual(['success_marker_malformed']);
  });

  it('an accepted _SUCCESS with CRLF, and an absent one (no signal, not a failure)', async () => {
    const bytes = await commit(await manifestFor(), { marker: false });
    expect(await verifyPrefix(dest)).toMatchObject({ passed: true, success_marker_present: false, success_marker_consistent: false });
    await writeFile(join(root, '_SUCCESS'), `${await xxh3Fingerprint(bytes)}\r\n`);
    expect(await verifyPrefix(dest)).toMatchObject({ passed: true, success_marker_consistent: true });
  });

  it('a self-inconsistent manifest reports each problem', async () => {
    const m = await manifestFor();
    await commit({ ...m, row_count: 99, part_count: 7 });
    const v = await verifyPrefix(dest);
    expect(v.manifest_self_consistent).toBe(false);
    expect(v.failures.map((f) => f.kind)).toEqual(['manifest_self_inconsistent', 'manifest_self_inconsistent']);
    expect(v.failures.map(describeVerificationFailure).join('\n')).toMatch(/part_count declares 7 parts but 2[\s\S]*row_count declares 99 rows but the committed parts sum to 5/);
  });

  it('a manifest that is not JSON', async () => {
    await commit(await manifestFor());
    await writeFile(join(root, 'manifest.json'), '{not json');
    const v = await verifyPrefix(dest);
    expect(v.manifest_found).toBe(true);
    expect(v.failures[0]).toMatchObject({ kind: 'manifest_self_inconsistent' });
    expect(v.failures.map((f) => f.kind)).toContain('success_marker_stale');
    expect(v.passed).toBe(false);
  });

  it('a failed run\'s manifest is not a committed dataset', async () => {
    await commit(await manifestFor({ status: 'failed' }), { marker: false });
    const v = await verifyPrefix(dest);
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([{ kind: 'manifest_not_successful', status: 'failed', run_id: 't_20260101T000000.000' }]);
  });

  it('quarantined parts are neither checked nor untracked', async () => {
    const m = await manifestFor();
    const q = { ...(await part(3, '_quarantine/r/part-000003.csv', PART2, 2)), status: 'quarantined' as const };
    await commit({ ...m, parts: [...m.parts, q] });
    const v = await verifyPrefix(dest);
    expect(v.passed).toBe(true);
    expect(v.parts_verified).toBe(2);
  });

  it('legacy prefix: data without a manifest is reported, not failed', async () => {
    await writeFile(join(root, 'orders_20200101.parquet'), 'x');
    const v = await verifyPrefix(dest);
    expect(v).toMatchObject({ manifest_found: false, legacy_run: true, passed: false, failures: [] });
    expect(verificationFailed(v)).toBe(false);
  });

  it('an empty or absent prefix, or one with only unfinished rivet runs, has no dataset (a failure)', async () => {
    expect((await verifyPrefix(openLocalDestination(join(root, 'nowhere')))).failures).toEqual([
      { kind: 'no_dataset', detail: 'the prefix is empty or does not exist' },
    ]);
    await mkdir(join(root, '_rivet/runs/r1'), { recursive: true });
    await writeFile(join(root, '_rivet/runs/r1/plan.json'), '{}');
    await writeFile(join(root, 'part-000001.csv'), PART1);
    const v = await verifyPrefix(dest);
    expect(v.legacy_run).toBe(false);
    expect(v.failures.map((f) => f.kind)).toEqual(['no_dataset']);
    expect(verificationFailed(v)).toBe(true);
  });

  it('a CSV part whose bytes match the manifest but hold another number of rows', async () => {
    const m = await manifestFor();
    await commit({ ...m, parts: [await part(1, 'part-000001.csv', PART1, 4), m.parts[1]], row_count: 6 });
    const v = await verifyPrefix(dest);
    expect(v.failures).toEqual([{ kind: 'part_row_count_mismatch', part_id: 1, path: 'part-000001.csv', expected: 4, actual: 3 }]);
    expect(describeVerificationFailure(v.failures[0])).toBe('part 1 (part-000001.csv) holds 3 rows when parsed back, the manifest says 4');
    expect(v.parts_rows_verified).toBe(1);
  });

  it('a CSV part cut inside a quoted field is unreadable', async () => {
    const cut = new TextEncoder().encode('id\n1\n"2\n');
    const m = await manifestFor();
    await commit({ ...m, parts: [await part(1, 'part-000001.csv', cut, 2), m.parts[1]], row_count: 4 });
    await writeFile(join(root, 'part-000001.csv'), cut);
    const v = await verifyPrefix(dest);
    expect(v.failures).toEqual([{ kind: 'part_unreadable', part_id: 1, path: 'part-000001.csv', format: 'csv', detail: 'it ends inside a quoted field' }]);
  });

  it('a Parquet part whose bytes match the manifest but are not Parquet is unreadable; a real one passes by its footer', async () => {
    const schema = new Schema([new Field('id', new Int32(), false)]);
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 3, nullCount: 0, children: [vectorFromArray([1, 2, 3], new Int32()).data[0]] }));
    const chunks: Uint8Array[] = [];
    const w = await createCheckedFormatWriter('parquet', schema, { write: async (c) => void chunks.push(c.slice()) }, { compression: 'none' }, 'part test');
    await w.write(batch);
    await w.finish();
    const good = Buffer.concat(chunks);
    const notParquet = Buffer.alloc(good.length, 0x41);
    const m = await manifestFor({ format: 'parquet' });
    const parts = [await part(1, 'part-000001.parquet', good, 3), await part(2, 'part-000002.parquet', notParquet, 2)];
    const bytes = serializeManifest({ ...m, parts, row_count: 5 });
    await writeFile(join(root, 'part-000001.parquet'), good);
    await writeFile(join(root, 'part-000002.parquet'), notParquet);
    await writeFile(join(root, 'manifest.json'), bytes);
    await writeFile(join(root, '_SUCCESS'), await successMarker(bytes));
    const v = await verifyPrefix(dest);
    expect(v.success_marker_consistent).toBe(true);
    expect(v.parts_rows_verified).toBe(1);
    expect(v.failures).toEqual([
      { kind: 'part_unreadable', part_id: 2, path: 'part-000002.parquet', format: 'parquet', detail: 'the file does not end with the Parquet magic "PAR1"' },
    ]);
    expect(describeVerificationFailure(v.failures[0])).toBe(
      'part 2 (part-000002.parquet) is not a readable Parquet file although its bytes match the manifest: the file does not end with the Parquet magic "PAR1"',
    );
  });

  it('streams parts through Destination.read (a part larger than one read chunk)', async () => {
    // Quoted line feeds across read chunks: the record count must not take them for rows.
    const big = new TextEncoder().encode(`id\n${Array.from({ length: 30_000 }, (_, i) => `"r${i},\nx"\n`).join('')}`);
    const m = await manifestFor();
    await commit({ ...m, parts: [await part(1, 'part-000001.csv', big, 30_000)], row_count: 30_000, part_count: 1 });
    await writeFile(join(root, 'part-000001.csv'), big);
    await rm(join(root, 'part-000002.csv'));
    // The marker was computed for these manifest bytes: only content matters here.
    const v = await verifyPrefix(dest);
    expect(v.failures).toEqual([]);
    expect(v.parts_content_verified).toBe(1);
    expect(v.parts_rows_verified).toBe(1);
    expect(Buffer.from(await readFile(join(root, 'part-000001.csv'))).length).toBe(big.length);
    expect(big.length).toBeGreaterThan(300_000);
  });
});
