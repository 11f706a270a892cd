import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

/**
 * Every embedded database of Arrears, with the extensions its migrations create (pg_trgm: the
 * trigram indexes of name and phone search). PostgreSQL servers ship them in their contrib
 * package; PGlite loads them when the database is opened.
 */
export function createPGlite(dataDir?: string, options: PGliteOptions = {}): Promise<PGlite> {
  const withExtensions: PGliteOptions = { ...options, extensions: { pg_trgm, ...(options.extensions ?? {}) } };
  return dataDir === undefined ? PGlite.create(withExtensions) : PGlite.create(dataDir, withExtensions);
}
