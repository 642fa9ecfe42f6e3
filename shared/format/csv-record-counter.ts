const QUOTE = 0x22;
const LF = 0x0a;

/**
 * Counts CSV records in bytes as they stream past, the way a reader splits them: a line feed
 * ends a record only outside a quoted field (a doubled quote inside one toggles out and back
 * in, so it needs no special case), and a last record without a line feed still counts. The
 * header line is skipped first: `headerBytes` exactly when the caller knows it (rivet writes
 * header names unquoted, so a name with a quote must not flip the state), else the first line.
 */
export class CsvRecordCounter {
  private newlines = 0;
  private inQuote = false;
  private headerLeft: number;
  private headerDone: boolean;
  /** Bytes seen after the header since the last record end. */
  private openRecord = false;
  private sawHeaderEnd = false;

  constructor(headerBytes?: number) {
    this.headerLeft = headerBytes ?? -1;
    this.headerDone = headerBytes === 0;
    this.sawHeaderEnd = headerBytes === 0;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    if (!this.headerDone) {
      if (this.headerLeft >= 0) {
        const take = Math.min(this.headerLeft, n);
        this.headerLeft -= take;
        i = take;
        if (this.headerLeft === 0) this.headerDone = this.sawHeaderEnd = true;
      } else {
        const nl = chunk.indexOf(LF);
        if (nl < 0) return;
        i = nl + 1;
        this.headerDone = this.sawHeaderEnd = true;
      }
    }
    if (i >= n) return;
    // indexOf scans natively; the next quote is remembered so a long quote-free stretch of
    // lines is not rescanned for every line feed.
    let nextQuote = chunk.indexOf(QUOTE, i);
    while (i < n) {
      if (this.inQuote) {
        if (nextQuote < 0) {
          i = n;
          break;
        }
        this.inQuote = false;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
        this.openRecord = true;
        continue;
      }
      const nl = chunk.indexOf(LF, i);
      if (nextQuote >= 0 && (nl < 0 || nextQuote < nl)) {
        this.inQuote = true;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
        this.openRecord = true;
        continue;
      }
      if (nl < 0) {
        this.openRecord = true;
        i = n;
        break;
      }
      this.newlines++;
      this.openRecord = false;
      i = nl + 1;
    }
  }

  /** Data records so far (header excluded), counting a last record that has no line feed. */
  get records(): number {
    return this.newlines + (this.openRecord ? 1 : 0);
  }

  /** The bytes end inside a quoted field: the file is cut short or badly quoted. */
  get unterminatedQuote(): boolean {
    return this.inQuote;
  }

  /** The header line was seen whole. */
  get headerComplete(): boolean {
    return this.sawHeaderEnd;
  }
}
