import { RivetError } from '../errors/rivet-error.js';
import type { CreateFormatWriter } from './format-writer.js';

/**
 * The Parquet encoder for one file: rivet's own (native codecs, Arrow buffers read in place)
 * when it supports the schema and codec, else the wasm encoder, which supports everything.
 * RIVET_PARQUET_ENCODER=wasm forces the wasm encoder (A/B runs, a suspected encoder bug);
 * =native makes an unsupported schema an error instead of a silent fallback.
 */
export const createParquetFileWriter: CreateFormatWriter = async (schema, sink, options) => {
  const choice = process.env.RIVET_PARQUET_ENCODER || 'auto';
  if (choice !== 'auto' && choice !== 'wasm' && choice !== 'native') {
    throw new RivetError('USAGE', `unknown RIVET_PARQUET_ENCODER "${choice}" (expected auto, native or wasm)`, { hint: 'unset RIVET_PARQUET_ENCODER to let rivet choose' });
  }
  if (choice !== 'wasm') {
    const { tryCreateNativeParquetWriter } = await import('./native-parquet-writer.js');
    const native = tryCreateNativeParquetWriter(schema, sink, options);
    if (native) return native;
    if (choice === 'native') {
      throw new RivetError('USAGE', `RIVET_PARQUET_ENCODER=native, but the native encoder cannot write this schema with ${options.compression}`, {
        hint: 'unset RIVET_PARQUET_ENCODER to fall back to the wasm encoder',
      });
    }
  }
  if (options.compressionLevel !== undefined) {
    // The wasm encoder exposes codecs but not their levels: say so rather than pretend.
    options.warnOnce?.(
      'compression-level',
      `compression level ${options.compressionLevel} cannot be applied to this file (nested columns, LZ4 or no native ${options.compression} codec here); ${options.compression} runs at its library default level (see docs/compatibility.md)`,
    );
  }
  const { createParquetWriter } = await import('./parquet-writer.js');
  return createParquetWriter(schema, sink, options);
};
