import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { strategySplitKey } from './secrets.ts';

/**
 * Sensitive personal information (PIPL art. 28): the national ID number is stored encrypted
 * (AES-256-GCM), found only by an exact-match keyed hash (a blind index), shown masked.
 */
export interface PiiKeys {
  /** 32 bytes: AES-256-GCM key. */
  encryptionKey: Buffer;
  /** 32 bytes: HMAC-SHA-256 key of the blind index. */
  blindIndexKey: Buffer;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Mainland resident ID (18, last may be X), or another document of 6 to 30 letters and digits. */
const NATIONAL_ID = /^[0-9A-Z]{6,30}$/;

export class PiiError extends Error {}

export class Pii {
  constructor(private readonly keys: PiiKeys) {
    if (keys.encryptionKey.length !== 32 || keys.blindIndexKey.length !== 32) {
      throw new PiiError('PII keys must be 32 bytes each');
    }
  }

  /** The champion-challenger split's key (src/lib/secrets.ts), derived from this deployment's blind-index secret. */
  strategySplitKey(): Buffer {
    return strategySplitKey(this.keys);
  }

  static randomKeys(): PiiKeys {
    return { encryptionKey: randomBytes(32), blindIndexKey: randomBytes(32) };
  }

  /** Upper case, no spaces or dashes: the form that is encrypted, hashed and compared. */
  static normalizeNationalId(raw: string): string {
    return raw.replace(/[\s-]/g, '').toUpperCase();
  }

  static isValidNationalId(raw: string): boolean {
    return NATIONAL_ID.test(Pii.normalizeNationalId(raw));
  }

  /** e.g. 110101199003071234 → 1101**********1234. */
  static maskNationalId(raw: string): string {
    const id = Pii.normalizeNationalId(raw);
    if (id.length <= 8) return '*'.repeat(id.length - Math.min(2, id.length)) + id.slice(-2);
    return id.slice(0, 4) + '*'.repeat(id.length - 8) + id.slice(-4);
  }

  encrypt(plain: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Uint8Array): string {
    const buf = Buffer.from(sealed);
    if (buf.length < IV_BYTES + TAG_BYTES) throw new PiiError('ciphertext too short');
    const decipher = createDecipheriv('aes-256-gcm', this.keys.encryptionKey, buf.subarray(0, IV_BYTES));
    decipher.setAuthTag(buf.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(buf.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  blindIndex(raw: string): string {
    return createHmac('sha256', this.keys.blindIndexKey).update(Pii.normalizeNationalId(raw)).digest('hex');
  }

  /** The three stored columns of a national ID number. */
  sealNationalId(raw: string): { nationalIdCiphertext: Uint8Array<ArrayBuffer>; nationalIdBlindIndex: string; nationalIdMasked: string } {
    const id = Pii.normalizeNationalId(raw);
    if (!NATIONAL_ID.test(id)) throw new PiiError('national ID number must be 6 to 30 letters and digits');
    return {
      nationalIdCiphertext: new Uint8Array(this.encrypt(id)),
      nationalIdBlindIndex: this.blindIndex(id),
      nationalIdMasked: Pii.maskNationalId(id),
    };
  }
}
