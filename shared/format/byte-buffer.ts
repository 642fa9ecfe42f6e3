/**
 * A growable byte buffer for text output built byte by byte. CSV cells are written straight
 * from Arrow buffers as UTF-8 bytes, so strings are never decoded and re-encoded.
 */
export class ByteBuffer {
  private buf: Uint8Array;
  length = 0;

  constructor(private readonly initialCapacity = 64 * 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let cap = Math.max(this.buf.length * 2, 1024);
    while (cap < this.length + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.ensure(1);
    this.buf[this.length++] = b;
  }

  /** Append a string known to be ASCII (numbers, dates, hex): one byte per UTF-16 unit. */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    this.length = at;
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }

  /** Hand the content over and start afresh: the sink may keep the chunk after `write` resolves. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(Math.max(this.initialCapacity, this.length));
    this.length = 0;
    return out;
  }
}
