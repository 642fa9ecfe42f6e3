import type { ModePlanner } from './mode-planner.js';

/** `full`: one task over the whole base query. */
export const planFull: ModePlanner = async ({ exp }) => ({ queries: [{ sql: exp.sql }] });
