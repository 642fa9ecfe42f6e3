// Where a rivet process's memory goes, sampled from inside it (issue 18). Preloaded into
// every isolate — the main thread and each worker thread, which inherit `--import` — by
// bench/memory-breakdown.mjs:
//
//   RIVET_MEMORY_SAMPLES=/tmp/s.jsonl node --import ./bench/memory-sampler.mjs dist/cli/main.js run -c x.yaml
//
// Every 50 ms each isolate appends one JSON line: its V8 heap (used / committed, per space),
// its `external` and `arrayBuffers` (ArrayBuffer backing stores this isolate owns, outside
// the heap — garbage included until a GC frees it, which is much of what they hold), the
// WebAssembly memories it instantiated, its role (from the first message a worker sends),
// and on the main thread the process's RSS split into anonymous and file-backed pages
// (/proc/self/status) and its OS thread count. RIVET_MEMORY_SMAPS=FILE also writes the
// resident size per mapping at exit. Without RIVET_MEMORY_SAMPLES it does nothing; rivet
// itself never loads it.
/* global WebAssembly */
import { appendFileSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, threadId } from 'node:worker_threads';

const out = process.env.RIVET_MEMORY_SAMPLES;
if (out) {
  const t0 = Date.now();
  /** WebAssembly memories this isolate instantiated (their size is the wasm heap, outside V8's). */
  const memories = [];
  const remember = (instance) => {
    for (const v of Object.values(instance.exports ?? {})) if (v instanceof WebAssembly.Memory) memories.push(new WeakRef(v));
    return instance;
  };
  const { instantiate, Instance } = WebAssembly;
  WebAssembly.instantiate = async (...args) => {
    const r = await instantiate.apply(WebAssembly, args);
    remember(r instanceof Instance ? r : r.instance);
    return r;
  };
  WebAssembly.Instance = new Proxy(Instance, {
    construct(target, args) {
      return remember(Reflect.construct(target, args));
    },
  });
  /** What a worker thread is, from the first reply it sends (its script is not visible from here). */
  let role = isMainThread ? 'main' : 'worker';
  if (parentPort) {
    const post = parentPort.postMessage;
    parentPort.postMessage = function (msg, transfer) {
      if (role === 'worker' && msg && typeof msg === 'object') {
        if (msg.type === 'ack' || msg.type === 'digest') role = 'hash';
        else if ('id' in msg && ('page' in msg || 'bytes' in msg || 'error' in msg)) role = 'page-compress';
        else if (msg.type === 'bytes' || msg.type === 'finished') role = 'parquet-encode';
        else if (msg.type === 'range' || msg.type === 'done') role = 'content-read';
      }
      return post.call(this, msg, transfer);
    };
  }
  const status = () => {
    const s = readFileSync('/proc/self/status', 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { rssAnon: kb('RssAnon') * 1024, rssFile: kb('RssFile') * 1024, threads: kb('Threads') };
  };
  const sample = () => {
    const m = process.memoryUsage();
    const h = getHeapStatistics();
    let wasm = 0;
    for (const r of memories) wasm += r.deref()?.buffer.byteLength ?? 0;
    const line = {
      t: Date.now() - t0,
      thread: threadId,
      role,
      heapUsed: m.heapUsed,
      heapCommitted: h.total_physical_size,
      malloced: h.malloced_memory,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      wasm,
      wasmInstances: memories.length,
      spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ''), s.physical_space_size])),
      ...(isMainThread ? { rss: m.rss, ...status() } : {}),
    };
    appendFileSync(out, JSON.stringify(line) + '\n');
  };
  sample();
  setInterval(sample, 50).unref();
  process.on('exit', sample);
  if (isMainThread && process.env.RIVET_MEMORY_SMAPS) {
    // Resident pages per mapping at the end of the run: which files and which anonymous
    // regions (heaps, arenas, stacks) hold the RSS. Written once, at exit.
    process.on('exit', () => {
      const byName = new Map();
      let name = '';
      for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
        const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
        if (head) name = head[1] || '[anon]';
        const rss = /^Rss:\s+(\d+) kB/.exec(line);
        if (rss) byName.set(name, (byName.get(name) ?? 0) + Number(rss[1]));
      }
      const top = [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
      appendFileSync(process.env.RIVET_MEMORY_SMAPS, top.map(([n, kb]) => `${(kb / 1024).toFixed(1)} MB\t${n}`).join('\n') + '\n');
    });
  }
}
