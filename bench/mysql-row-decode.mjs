#!/usr/bin/env node
// The CPU cost of decoding MySQL rows into Arrow, without the network or the writer (issue 18).
// Captures the rows of a table once, then decodes them 10 times (after 3 warm-up passes) into
// 10,000-row batches whose memory is recycled as a run recycles it, and prints CPU ns per row:
//   packet  MysqlBatchBuilder.addPacket on the row packets' payloads (the read path);
//   driver  MysqlBatchBuilder.addRow on mysql2's per-value Buffers (the earlier path) — the
//           cost of mysql2 splitting the rows into those Buffers is NOT counted here.
//
//   npm run build && node bench/mysql-row-decode.mjs [table] [rows] [packet|driver]
//   node bench/mysql-row-decode.mjs bench.my_narrow_2000000 200000 packet
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2';
import { Schema } from 'apache-arrow';
import { BufferPool } from '../dist/shared/source/buffer-pool.js';
import { SizeMemo } from '../dist/shared/source/column-builders.js';
import { MysqlBatchBuilder } from '../dist/shared/source/mysql/mysql-batch-builder.js';
import { routeRawRows } from '../dist/shared/source/mysql/mysql-raw-rows.js';
import { autodetectMysqlType } from '../dist/shared/source/mysql/mysql-types.js';
import { rivetField } from '../dist/shared/types/rivet-type.js';

const table = process.argv[2] ?? 'bench.my_narrow_2000000';
const limit = Number(process.argv[3] ?? 200_000);
const mode = process.argv[4] ?? 'packet';
if (mode !== 'packet' && mode !== 'driver') throw new Error(`mode must be packet or driver (got ${mode})`);
const url = new URL(process.env.RIVET_BENCH_MYSQL_URL ?? `mysql://rivet:rivet@127.0.0.1:${process.env.RIVET_TEST_MYSQL_PORT ?? 54330}/bench`);

// ---- capture: the same connection options as the source (mysql-connect.ts)
const conn = mysql.createConnection({
  host: url.hostname,
  port: Number(url.port || 3306),
  user: decodeURIComponent(url.username),
  password: decodeURIComponent(url.password),
  database: url.pathname.slice(1),
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: true,
  charset: 'UTF8MB4_GENERAL_CI',
});
const driverRows = [];
const payloads = [];
/** [start, end) of each captured payload in `packed`. */
const spans = [];
let fields;
const q = conn.query({ sql: `SELECT * FROM ${table} LIMIT ${limit}`, rowsAsArray: true, typeCast: false });
q.on('fields', (f) => (fields = f));
if (mode === 'driver') q.on('result', (row) => driverRows.push(row));
else {
  let at = 0;
  routeRawRows(q, (buf, start, end) => {
    payloads.push(Buffer.from(buf.subarray(start, end)));
    spans.push(at, at + end - start);
    at += end - start;
  });
}
await new Promise((resolve, reject) => {
  q.on('end', resolve);
  q.on('error', reject);
});
conn.end();
const packed = Buffer.concat(payloads);

// ---- decode
const cols = fields.map((f) => {
  const a = autodetectMysqlType(f);
  return { name: f.name, nativeType: a.nativeType, rivetType: a.rivetType, wire: a.wire };
});
const schema = new Schema(cols.map((c) => rivetField(c.name, c.rivetType, c.nativeType)));
const pool = new BufferPool();
const memos = cols.map(() => new SizeMemo(pool));
const builder = () => new MysqlBatchBuilder(schema, cols, 10_000, 0, () => {}, memos);

function pass() {
  let b = builder();
  const cut = () => {
    if (b.rows < 10_000) return;
    pool.giveBatch(b.finish());
    b = builder();
  };
  if (mode === 'driver') {
    for (const row of driverRows) {
      b.addRow(row);
      cut();
    }
  } else {
    for (let r = 0; r < spans.length; r += 2) {
      b.addPacket(packed, spans[r], spans[r + 1]);
      cut();
    }
  }
}

for (let k = 0; k < 3; k++) pass();
const reps = 10;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let k = 0; k < reps; k++) pass();
const cpu = process.cpuUsage(cpu0);
const rows = reps * (mode === 'driver' ? driverRows.length : spans.length / 2);
const us = cpu.user + cpu.system;
console.log(`${table} (${mode}): ${rows} rows decoded, ${(us / 1e3).toFixed(0)} ms CPU, ${((us * 1e3) / rows).toFixed(0)} ns/row, wall ${(performance.now() - t0).toFixed(0)} ms`);
