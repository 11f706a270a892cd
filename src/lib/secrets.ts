import fs from 'node:fs';
import path from 'node:path';
import { hkdfSync, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import type { PiiKeys } from './pii.ts';

export interface Secrets {
  jwtSecret: string;
  pii: PiiKeys;
}

interface SecretsFile {
  jwtSecret: string;
  piiKey: string;
  blindIndexKey: string;
}

/**
 * The secrets of Arrears: from the environment when set, otherwise generated once into
 * `<dataDir>/secrets.json` (mode 0600) and read from there afterwards, so that the embedded
 * store works on a fresh machine and tokens survive restarts.
 */
export function loadSecrets(config: Config): Secrets {
  const file = path.join(config.dataDir, 'secrets.json');
  let stored: SecretsFile | undefined;
  const needFile = !config.jwtSecret || !config.piiKey || !config.blindIndexKey;
  if (needFile) {
    if (config.production && config.databaseUrl) {
      throw new Error(
        'In production with PostgreSQL, set ARREARS_JWT_SECRET, ARREARS_PII_KEY and ARREARS_BLIND_INDEX_KEY (from a secrets manager).',
      );
    }
    if (fs.existsSync(file)) {
      stored = JSON.parse(fs.readFileSync(file, 'utf8')) as SecretsFile;
    } else {
      fs.mkdirSync(config.dataDir, { recursive: true });
      stored = {
        jwtSecret: randomBytes(48).toString('base64url'),
        piiKey: randomBytes(32).toString('base64'),
        blindIndexKey: randomBytes(32).toString('base64'),
      };
      try {
        fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        stored = JSON.parse(fs.readFileSync(file, 'utf8')) as SecretsFile; // another process won the race
      }
    }
  }
  return {
    jwtSecret: config.jwtSecret ?? stored!.jwtSecret,
    pii: {
      encryptionKey: Buffer.from(config.piiKey ?? stored!.piiKey, 'base64'),
      blindIndexKey: Buffer.from(config.blindIndexKey ?? stored!.blindIndexKey, 'base64'),
    },
  };
}

/**
 * The key of the champion-challenger split (src/modules/strategy/split.ts): derived from the
 * deployment's blind-index secret with HKDF under its own label, so it needs no setting of its own
 * and no other use of that secret can be confused with it. Stable for as long as the secret is.
 */
export function strategySplitKey(keys: Pick<PiiKeys, 'blindIndexKey'>): Buffer {
  return Buffer.from(hkdfSync('sha256', keys.blindIndexKey, 'arrears', 'strategy champion-challenger split v1', 32));
}
