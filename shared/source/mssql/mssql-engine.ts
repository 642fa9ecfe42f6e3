import type { EngineDescriptor } from '../engine-descriptor.js';
import { mssqlDialect } from './mssql-dialect.js';
import { classifyMssqlError } from './mssql-errors.js';
import { mssqlPartitionLabelsSql } from './mssql-partition.js';

/**
 * SQL Server, as the registry lists it. `tedious` is loaded only by `open`. No catalog yet:
 * `rivet check` and `rivet init` refuse SQL Server sources.
 */
export const mssqlEngine: EngineDescriptor<'mssql'> = {
  name: 'mssql',
  label: 'SQL Server',
  schemes: ['sqlserver', 'mssql'],
  defaultPort: 1433,
  namespace: { noun: 'schema', label: 'SQL Server schema', default: 'dbo' },
  tls: {
    // TDS connections are always encrypted (docs/reference/config.md); `trustServerCertificate=false` is what verifies.
    alwaysEncrypted: true,
    urlLevel: (url) => (/[?&]trustServerCertificate=(false|no|0)(&|#|$)/i.test(url) ? 'verified' : 'encrypted'),
  },
  namedInstances: true,
  hints: { auth: 'check the user and password, and that the server accepts SQL Server authentication (mixed mode) for this login' },
  dialect: mssqlDialect,
  partitionLabelsSql: mssqlPartitionLabelsSql,
  classifyError: classifyMssqlError,
  open: async (options) => (await import('./mssql-source.js')).openMssqlSource(options),
};
