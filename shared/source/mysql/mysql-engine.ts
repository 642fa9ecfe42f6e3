import type { EngineDescriptor } from '../engine-descriptor.js';
import { mysqlDialect } from './mysql-dialect.js';
import { classifyMysqlError } from './mysql-errors.js';
import { mysqlPartitionLabelsSql } from './mysql-partition.js';
import { mysqlUrlTlsMode } from './mysql-url-tls.js';

/** MySQL and MariaDB, as the registry lists them. `mysql2` is loaded only by `open` and `openCatalog`. */
export const mysqlEngine: EngineDescriptor<'mysql'> = {
  name: 'mysql',
  label: 'MySQL/MariaDB',
  schemes: ['mysql', 'mariadb'],
  defaultPort: 3306,
  namespace: { noun: 'database', label: 'MySQL database', default: null },
  tls: {
    alwaysEncrypted: false,
    urlLevel(url) {
      let mode;
      try {
        mode = mysqlUrlTlsMode(new URL(url));
      } catch {
        return 'none';
      }
      return mode === 'verify-ca' || mode === 'verify-full' ? 'verified' : mode === 'require' ? 'encrypted' : 'none';
    },
  },
  namedInstances: false,
  hints: { auth: "check the user and password, and that the account may connect from this host (MySQL accounts are 'user'@'host')" },
  dialect: mysqlDialect,
  partitionLabelsSql: mysqlPartitionLabelsSql,
  classifyError: classifyMysqlError,
  open: async (options) => (await import('./mysql-source.js')).openMysqlSource(options),
  openCatalog: async (options) => (await import('./mysql-catalog.js')).openMysqlCatalog(options),
};
