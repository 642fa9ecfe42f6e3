import type { CompressionName, ExportConfig } from './schema.js';

/**
 * Parquet codec and level for an export. `compression_profile` wins over `compression` and
 * `compression_level` (none → none, fast → snappy, balanced → zstd 3, compact → zstd 9).
 * The level is range-checked against `compression` even when a profile is set, as in the
 * reference: a level that is wrong for the written codec is a mistake worth reporting.
 */
export const COMPRESSION_LEVEL_RANGES: Readonly<Partial<Record<CompressionName, readonly [number, number]>>> = {
  zstd: [1, 22],
  gzip: [0, 10],
};

const PROFILE_CODECS = {
  none: { codec: 'none' },
  fast: { codec: 'snappy' },
  balanced: { codec: 'zstd', level: 3 },
  compact: { codec: 'zstd', level: 9 },
} as const satisfies Record<string, { codec: CompressionName; level?: number }>;

/** Why `level` is not valid for `codec`, or undefined when it is. */
export function compressionLevelProblem(codec: CompressionName, level: number): string | undefined {
  const range = COMPRESSION_LEVEL_RANGES[codec];
  if (!range) return `compression '${codec}' takes no compression_level (only zstd 1..22 and gzip 0..10 do)`;
  if (level < range[0] || level > range[1]) return `compression_level ${level} is out of range for ${codec} (${range[0]}..${range[1]})`;
  return undefined;
}

export interface ResolvedCompression {
  codec: CompressionName;
  /** undefined = the codec's default (zstd 3, gzip 6). */
  level?: number;
}

export function resolveCompression(exp: ExportConfig): ResolvedCompression {
  if (exp.compression_profile) return { ...PROFILE_CODECS[exp.compression_profile] };
  return exp.compression_level === undefined ? { codec: exp.compression } : { codec: exp.compression, level: exp.compression_level };
}
