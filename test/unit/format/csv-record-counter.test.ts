import { describe, expect, it } from 'vitest';
import { CsvRecordCounter } from '../../../shared/format/csv-record-counter.js';
import { seededRandom } from '../../helpers/seeded-random.js';

function count(text: string, pieces: number[] = [], headerBytes?: number): CsvRecordCounter {
  const bytes = Buffer.from(text, 'utf8');
  const c = new CsvRecordCounter(headerBytes);
  let at = 0;
  for (const p of pieces) {
    c.feed(bytes.subarray(at, at + p));
    at += p;
  }
  c.feed(bytes.subarray(at));
  return c;
}

/** Every way to cut `text` in two and in three pieces (short texts only). */
function splits(text: string): number[][] {
  const n = Buffer.byteLength(text);
  const out: number[][] = [[]];
  for (let a = 0; a <= n; a++) {
    out.push([a]);
    for (let b = 0; a + b <= n; b += 3) out.push([a, b]);
  }
  return out;
}

describe('CSV record counter', () => {
  const cases: [string, string, number][] = [
    ['plain', 'a,b\n1,2\n3,4\n', 2],
    ['no trailing line feed', 'a,b\n1,2\n3,4', 2],
    ['line feed inside quotes', 'a,b\n"x\ny",2\n3,"\n\n"\n', 2],
    ['doubled quotes', 'a\n"say ""hi""\n"\n"""",\n', 2],
    ['CRLF inside and at the end of records', 'a\r\n"x\r\ny"\r\n2\r\n', 2],
    ['header only', 'a,b\n', 0],
    ['empty cells and empty lines', 'a\n\n,\n', 2],
  ];
  for (const [name, text, records] of cases) {
    it(`${name}: ${records} records in every chunking`, () => {
      for (const pieces of splits(text)) expect(count(text, pieces).records, JSON.stringify(pieces)).toBe(records);
    });
  }

  it('reports a quote left open and an incomplete header', () => {
    expect(count('a\n"open\n1\n').unterminatedQuote).toBe(true);
    expect(count('a\n"closed"\n').unterminatedQuote).toBe(false);
    expect(count('a,b').headerComplete).toBe(false);
  });

  it('with the header length given, quotes in the header do not flip the state', () => {
    const header = 'we"ird,b\n';
    const text = `${header}1,2\n3,4\n`;
    expect(count(text, [], Buffer.byteLength(header)).records).toBe(2);
    // Without it the first line is the header, quote or not.
    expect(count(text).records).toBe(2);
    expect(count(`we"ird\n1\n2\n`, [], 7).records).toBe(2);
    expect(count(`we"ird\n1\n2\n`).records).toBe(2);
    // A header name holding a line feed is only handled when the length is given.
    expect(count(`a\nb,c\n1,2\n`, [], 6).records).toBe(1);
  });

  it('counts the rows random quoted CSV was generated from, cut anywhere (seeded)', () => {
    const rand = seededRandom(7);
    const alphabet = ['a', ',', '"', '\n', '\r', 'é', ' '];
    for (let round = 0; round < 300; round++) {
      const rows = Math.floor(rand() * 20);
      const lines = ['h1,h2'];
      for (let r = 0; r < rows; r++) {
        const cells = Array.from({ length: 2 }, () => {
          const cell = Array.from({ length: Math.floor(rand() * 6) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
          return /[,"\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
        });
        lines.push(cells.join(','));
      }
      const text = lines.join('\n') + (rand() < 0.8 ? '\n' : '');
      const bytes = Buffer.byteLength(text);
      const pieces = Array.from({ length: 4 }, () => Math.floor(rand() * (bytes / 3 + 1)));
      expect(count(text, pieces).records, text).toBe(rows);
    }
  });
});
