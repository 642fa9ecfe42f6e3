import type { z } from 'zod';
import { RivetError } from '../shared/errors/rivet-error.js';
import type { RunDeps } from '../shared/run/run-deps.js';

/**
 * Wraps a phase as a handler: parse the event with zod (a malformed event is a clear
 * USAGE error, not a TypeError deep inside), build deps once per process, call the phase.
 */
export function makeHandler<S extends z.ZodTypeAny, R>(
  schema: S,
  deps: () => Promise<RunDeps>,
  phase: (event: z.infer<S>, deps: RunDeps) => Promise<R>,
): (event: unknown) => Promise<R> {
  let built: Promise<RunDeps> | null = null;
  return async (event) => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RivetError('USAGE', `malformed event: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
    }
    built ??= deps();
    return phase(parsed.data, await built);
  };
}
