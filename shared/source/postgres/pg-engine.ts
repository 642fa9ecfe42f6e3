import type { EngineDescriptor } from '../engine-descriptor.js';
import { pgDialect } from './pg-dialect.js';
import { classifyPgError } from './pg-errors.js';
import { pgPartitionLabelsSql } from './pg-partition.js';

/** PostgreSQL, as the registry lists it. `pg` itself is loaded only by `open` and `openCatalog`. */
export const pgEngine: EngineDescriptor<'postgres'> = {
  name: 'postgres',
  label: 'PostgreSQL',
  schemes: ['postgresql', 'postgres'],
  defaultPort: 5432,
  namespace: { noun: 'schema', label: 'PostgreSQL schema', default: 'public' },
  tls: {
    alwaysEncrypted: false,
    urlLevel: (url) => (/[?&]sslmode=verify-(ca|full)(&|#|$)/i.test(url) ? 'verified' : /[?&]sslmode=require(&|#|$)/i.test(url) ? 'encrypted' : 'none'),
  },
  namedInstances: false,
  hints: { auth: 'check the user and password, and that pg_hba.conf allows this client' },
  dialect: pgDialect,
  partitionLabelsSql: pgPartitionLabelsSql,
  classifyError: classifyPgError,
  open: async (options) => (await import('./pg-source.js')).openPostgresSource(options),
  openCatalog: async (options) => (await import('./pg-catalog.js')).openPostgresCatalog(options),
};
