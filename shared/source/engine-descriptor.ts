import type { ErrorClass } from './error-class.js';
import type { OpenCatalogOptions, SourceCatalog } from './source-catalog.js';
import type { OpenSourceOptions, Source } from './source.js';
import type { SqlDialect } from './sql-dialect.js';

export type PartitionGranularity = 'day' | 'month' | 'year';

/**
 * Everything rivet knows about a database engine outside its own folder, in one object that
 * each engine exports (`shared/source/<engine>/<engine>-engine.ts`) and the registry lists.
 * The config, plan artifacts, `init`, `check` and `doctor` read these fields instead of
 * naming engines.
 *
 * A descriptor must stay light: it is loaded with every config. Whatever pulls in a driver
 * (pg, mysql2, tedious) sits behind a dynamic `import()` in `open` / `openCatalog`.
 */
export interface EngineDescriptor<N extends string = string> {
  /** `source.type` in rivet.yaml, and `Source.engine`. */
  readonly name: N;
  /** The engine as a user names it, in messages: `PostgreSQL`, `MySQL/MariaDB`. */
  readonly label: string;
  /** URL schemes (lower case) that select this engine; the first is the one rivet writes. */
  readonly schemes: readonly string[];
  /** The port a connection assembled from `host:` without `port:` uses. */
  readonly defaultPort: number;
  /** The namespace `rivet init --schema` lists and a bare table name is found in. */
  readonly namespace: {
    /** What the engine calls it: `schema` or `database`. */
    readonly noun: 'schema' | 'database';
    /** How discovery describes one: `PostgreSQL schema`. */
    readonly label: string;
    /** Where a bare name lives (`public`); null when the connection's database is the namespace and names are never qualified. */
    readonly default: string | null;
  };
  /** What a connection's TLS looks like on this engine (the config warns from it). */
  readonly tls: {
    /** Connections are encrypted whatever the settings; what may be missing is certificate verification. */
    readonly alwaysEncrypted: boolean;
    /** What the URL's own parameters ask for (`sslmode=verify-full`, …). */
    urlLevel(url: string): 'none' | 'encrypted' | 'verified';
  };
  /** `host\INSTANCE` names a server instance, found without a port. */
  readonly namedInstances: boolean;
  /** Hints for failures whose fix lies in the server's own configuration. */
  readonly hints: {
    /** Credentials refused: what besides the password to check. */
    readonly auth: string;
  };
  /** The SQL the export modes need. Pure text, no connection: partition children are resolved before any source opens. */
  readonly dialect: SqlDialect;
  /**
   * Rows as text, distinct: the bucket of every row of the base query — `YYYY-MM-DD`,
   * `YYYY-MM` or `YYYY` (UTC for zoned types) — and one NULL row when some rows have a NULL
   * `column` (already quoted). Only buckets that hold rows are listed.
   */
  partitionLabelsSql(baseSql: string, column: string, granularity: PartitionGranularity): string;
  /** Whether an error from this engine is worth retrying, and how. */
  classifyError(err: unknown): ErrorClass;
  /** Connect a Source (the driver is imported here, on first use). */
  open(options: OpenSourceOptions): Promise<Source>;
  /**
   * Read-only introspection for `rivet check` and `rivet init`; absent when the engine offers
   * none yet, and both commands then refuse it with a clear message.
   */
  openCatalog?(options: OpenCatalogOptions): Promise<SourceCatalog>;
}
