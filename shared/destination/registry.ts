import { notSupportedYet } from '../errors/rivet-error.js';
import type { Destination, DestinationKind } from './destination.js';
import { openLocalDestination } from './local-destination.js';
import { openStdoutDestination } from './stdout-destination.js';

/** Where one run writes: the backend and its resolved root (placeholders already expanded). */
export interface DestinationTarget {
  kind: DestinationKind;
  /** Local directory, or `bucket` + `prefix` for object stores. */
  path?: string;
  bucket?: string;
  prefix?: string;
}

/** The one place that maps `destination.type` to an implementation. */
export async function openDestination(target: DestinationTarget): Promise<Destination> {
  switch (target.kind) {
    case 'local':
      return openLocalDestination(target.path ?? '.');
    case 'stdout':
      return openStdoutDestination();
    default:
      throw notSupportedYet(`destination type '${target.kind}'`, 'use `type: local` or `type: stdout` for now');
  }
}
