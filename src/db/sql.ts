/** The least a migration runner or a maintenance task needs from a database: plain SQL. */
export interface SqlRunner {
  /** Runs one or more statements with no parameters (a migration file). */
  exec(sql: string): Promise<void>;
  /** Runs one parameterised statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `fn` inside a transaction on one connection. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** PostgreSQL server (`postgres`) or the embedded store (`pglite`). */
  readonly kind: 'postgres' | 'pglite';
}
